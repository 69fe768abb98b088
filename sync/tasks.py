from celery import shared_task

from sync.services import ghl_pull_buyers, ghl_push_leads


@shared_task(soft_time_limit=1800)
def ghl_push_leads_task(lead_ids: list[int] | None = None) -> int:
    return ghl_push_leads(lead_ids=lead_ids).pk


@shared_task(soft_time_limit=1800)
def ghl_pull_buyers_task() -> int:
    return ghl_pull_buyers().pk
