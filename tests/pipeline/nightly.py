"""The nightly job's steps in order, as the pipeline tests expect them (written out, not read from JOBS)."""

NIGHTLY = [
    "ingest",
    "enrich",
    "score",
    "comps",
    "map",
    "match",
    "discover_buyers",
    "ghl_reconcile",
    "ghl_push",
    "mail",
    "alerts",
    "quality",
    "dashboard",
]
