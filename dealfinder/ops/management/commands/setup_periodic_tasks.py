from django.core.management.base import BaseCommand

from dealfinder.ops.pipeline.schedules import periodic_tasks_setup


class Command(BaseCommand):
    help = "Create the beat schedules (nightly pipeline, GoHighLevel pull/push, quality check); idempotent."

    def handle(self, *args, **options):
        created, kept = periodic_tasks_setup()
        self.stdout.write(f"Periodic tasks: {created} created, {kept} already present (edit them in the admin).")
