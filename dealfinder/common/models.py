"""Abstract model pieces every app builds on (no concrete models here: the floor has no tables of its own)."""

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


def score_range_check(field: str, *, low: int = 0, high: int = 100) -> models.CheckConstraint:
    """A database CHECK keeping a score column within [low, high]."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=f"%(app_label)s_%(class)s_{field}_range",
    )
