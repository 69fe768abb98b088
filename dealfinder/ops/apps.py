from django.apps import AppConfig


class DealFinderConfig(AppConfig):
    """The roof. Its label stays "dealfinder" (tables, permissions, migrations and content types keep theirs)."""

    name = "dealfinder.ops"
    label = "dealfinder"
    verbose_name = "DealFinder"
