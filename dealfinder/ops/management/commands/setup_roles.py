from django.core.management.base import BaseCommand

from dealfinder.ops.roles import roles_setup


class Command(BaseCommand):
    help = "Create or refresh the Acquisitions, Dispositions and Admin groups and their permissions."

    def handle(self, *args, **options):
        for role, count in roles_setup().items():
            self.stdout.write(f"{role}: {count} permissions")
