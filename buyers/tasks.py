from celery import shared_task

from .services import matches_refresh_all


@shared_task(soft_time_limit=3600)
def matches_refresh_task(buyer_ids: list[int] | None = None) -> dict:
    """Refresh property-buyer matches (all active buyers, or the given ids)."""
    return vars(matches_refresh_all(buyer_ids=buyer_ids))
