from django.apps import AppConfig


class DealFinderConfig(AppConfig):
    name = "dealfinder"
    verbose_name = "DealFinder"
