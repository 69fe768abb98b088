"""The leads' vocabulary, shared by every app above: score tiers and the broker workflow's statuses."""

from django.db import models

TIERS = ("A", "B", "C", "D")


def tier_check(field: str = "tier") -> models.CheckConstraint:
    """A database CHECK keeping a tier column within TIERS."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__in": TIERS}),
        name=f"%(app_label)s_%(class)s_{field}_valid",
    )


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    FOLLOW_UP = "follow_up", "Follow-up"
    NEGOTIATING = "negotiating", "Negotiating"
    UNDER_CONTRACT = "under_contract", "Under contract"
    CLOSED_WON = "closed_won", "Closed (won)"
    DEAD = "dead", "Dead"


# A lead in these has ended: no longer a deal to work (the dashboard's hot deals, vw_hot_deals).
CLOSED_STATUSES = (LeadStatus.CLOSED_WON.value, LeadStatus.DEAD.value)
# The statuses that end (or decide) a lead: reaching one records an Outcome of the same kind.
OUTCOME_STATUSES = (LeadStatus.UNDER_CONTRACT, LeadStatus.CLOSED_WON, LeadStatus.DEAD)
CONVERTED_STATUSES = (LeadStatus.UNDER_CONTRACT, LeadStatus.CLOSED_WON)
