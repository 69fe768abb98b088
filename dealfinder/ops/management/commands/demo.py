"""`python manage.py demo`: a working DealFinder on whatever DATABASE_URL names.

Migrates, creates the roles and a demo superuser (in the Admin role), runs the bundled sample county
through the real pipeline (ingest -> score -> buyers -> match), collects static files
and serves the site. Running it again on the same database duplicates nothing.
"""

import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from dealfinder.ops.roles import ADMIN, roles_setup
from properties.models import IngestionRun


class Command(BaseCommand):
    help = "Set up and serve a demo of DealFinder with the bundled sample county."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000", help="Where to serve (default 127.0.0.1:8000)")
        parser.add_argument("--no-serve", action="store_true", help="Do everything but serve")
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", help="Demo password (default: a new random one each run)")
        parser.add_argument(
            "--outcomes",
            action="store_true",
            help="Also plant a quarter of won and dead outcomes (absentee owners close far more often) and run a "
            "backtest, to try Leads > Backtest runs",
        )

    def handle(self, *args, **options):
        database = settings.DATABASES["default"]
        self.step(f"Database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        roles_setup()
        username, password = self.demo_user(options["username"], options["password"])
        self.load_sample()
        if options["outcomes"]:
            self.plant_outcomes()
        call_command("collectstatic", interactive=False, verbosity=0)
        host = options["addrport"] if ":" in options["addrport"] else f"127.0.0.1:{options['addrport']}"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDealFinder is ready: http://{host}/\n  username: {username}\n  password: {password}\n"
            )
        )
        if not options["no_serve"]:
            call_command("runserver", options["addrport"], use_reloader=False, use_threading=True)

    def step(self, message):
        self.stdout.write(self.style.MIGRATE_HEADING(message))

    def demo_user(self, username, password):
        password = password or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=ADMIN))  # a broker role: leads can be assigned to the demo user
        return username, password

    def load_sample(self):
        """The sample county through the real pipeline: ingest, enrich, score, buyers, match."""
        for label, run in self.sample_steps():
            started = time.monotonic()
            result = run()
            self.step(f"{label}: {self.describe(result)} ({time.monotonic() - started:.1f}s)")

    def sample_steps(self):
        from buyers.discovered import discovered_buyers_refresh
        from buyers.services import buyers_create_samples, matches_refresh_all
        from dealfinder.ops.scoring import leads_score
        from leads.comps_refresh import leads_comps_refresh
        from properties.sample import sample_county_ingest
        from properties.services import datasources_create_defaults, properties_enrich

        return [
            ("Default Orange County FL sources (disabled)", lambda: len(datasources_create_defaults())),
            ("Sample county ingested", sample_county_ingest),
            ("Enriched", properties_enrich),
            ("Scored", leads_score),
            ("Comps and ARV from the recorded sales", leads_comps_refresh),
            ("Sample buyers", buyers_create_samples),
            ("Matched", matches_refresh_all),
            ("Cash buyers discovered", lambda: discovered_buyers_refresh()[1]),
        ]

    def plant_outcomes(self):
        from dealfinder.ops.backtest import backtest_run
        from dealfinder.ops.demo_outcomes import demo_outcomes_plant

        self.step(f"Outcomes planted: {demo_outcomes_plant()}")
        run = backtest_run()
        self.step(f"Backtest #{run.pk}: {run.outcomes} outcomes, AUC {run.active_auc} -> {run.proposed_auc}")

    @classmethod
    def describe(cls, result):
        if isinstance(result, list):
            return "".join(f"\n  {cls.describe(item)}" for item in result)
        if isinstance(result, IngestionRun):
            return (
                f"{result.source_label}: {result.status}, processed {result.processed}, inserted {result.inserted}, "
                f"updated {result.updated}, unchanged {result.unchanged}, failed {result.failed}"
            )
        return str(result)
