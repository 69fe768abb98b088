from django.apps import AppConfig


class DealFinderConfig(AppConfig):
    """The roof. Its label stays "dealfinder" (tables, permissions, migrations and content types keep theirs)."""

    name = "dealfinder.ops"
    label = "dealfinder"
    verbose_name = "DealFinder"

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from dealfinder.ops.reports import hooks

        pre_migrate.connect(hooks.drop_before_migrate, dispatch_uid="dealfinder_reports_drop")
        post_migrate.connect(hooks.create_after_migrate, dispatch_uid="dealfinder_reports_create")
