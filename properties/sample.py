"""The sample county: shipped files (properties/sample_data/) fed through the real ingest path."""

from __future__ import annotations

import json
from pathlib import Path

from properties.models import DataSource, IngestionRun
from properties.services import Progress, datasource_ingest

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"


def sample_sources_ensure() -> list[DataSource]:
    """Create or refresh the enabled sample file sources (by slug; idempotent)."""
    specs = json.loads((SAMPLE_DIR / "sources.json").read_text())
    return [
        DataSource.objects.update_or_create(
            slug=spec["slug"], defaults={**spec, "kind": DataSource.Kind.FILE, "county": "Orange", "enabled": True}
        )[0]
        for spec in specs
    ]


def sample_county_ingest(*, progress: Progress = None) -> list[IngestionRun]:
    """Ingest the sample county (parcels first); running it again the same day changes nothing."""
    return [datasource_ingest(source_id=source.pk, progress=progress) for source in sample_sources_ensure()]
