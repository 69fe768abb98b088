"""Reads about data sources."""

from properties.models import DataSource


def datasource_get_by_slug(*, slug: str) -> DataSource | None:
    return DataSource.objects.filter(slug=slug).first()
