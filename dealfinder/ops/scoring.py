"""Scoring as the roof runs it: leads score, but what the location score and the fold of merged leads need
from the apps above leads is handed in here (the pipeline's score step, `manage.py score`, the admin's and the
API's rescore, the demo and the benchmark all score through leads_score)."""

from buyers.selectors import buyer_demand_by_zip
from leads.services import ScoreSummary, leads_score_all
from sync.links import external_links_hand_over


def leads_score(**kwargs) -> ScoreSummary:
    """leads.services.leads_score_all (same arguments) with the buyers' demand per zip for the location score,
    and the GoHighLevel links of folded leads handed over to the leads they were folded into."""
    return leads_score_all(buyer_demand_by_zip=buyer_demand_by_zip(), on_fold=external_links_hand_over, **kwargs)
