"""`manage.py create_report_role NAME`: a PostgreSQL login for BI tools that reads the reporting views only."""

import os

from django.core.management.base import BaseCommand, CommandError

from dealfinder.ops.roles import REPORT_ROLE_ENV_VAR, report_role_setup


class Command(BaseCommand):
    help = (
        "Create or update a read-only PostgreSQL login that reads the vw_* reporting views and nothing else. "
        f"The password comes from the environment variable {REPORT_ROLE_ENV_VAR}."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Role name, e.g. metabase")

    def handle(self, *args, name, **options):
        try:
            views = report_role_setup(name=name, password=os.environ.get(REPORT_ROLE_ENV_VAR, ""))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Role {name} may read {', '.join(views)} (read-only, 60 s statement timeout).")
