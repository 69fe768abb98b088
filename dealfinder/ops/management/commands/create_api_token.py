from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dealfinder.ops.api_tokens import api_token_create


class Command(BaseCommand):
    help = (
        "Issue a REST API token for USERNAME and print it on the last line. Only its hash is kept: copy it now, "
        "it cannot be shown again (revoke it in admin > API tokens)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--expires", type=int, metavar="DAYS", help="expire after DAYS days (default: never)")
        parser.add_argument("--description", default="", help="what the token is for, shown in admin")

    def handle(self, *args, username, expires, description, **options):
        if expires is not None and expires < 1:
            raise CommandError("--expires takes a number of days, 1 or more.")
        user = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"{username!r} is inactive; an inactive user's tokens are refused.")
        token, key = api_token_create(user=user, expires_days=expires, description=description[:200])
        until = f"until {token.expiry:%Y-%m-%d %H:%M %Z}" if token.expiry else "with no expiry"
        self.stdout.write(f"API token for {username}, valid {until}. It is not stored; copy it now:")
        self.stdout.write(key)
