"""Recorded sales after ingest: the arms-length rules (properties.sales_rules) applied to stored Sale rows.

`sales_assess(*, source)` runs after every ingest of a `sales` source (datasource_ingest calls it). It reads the
source's sales in bounded chunks (one query each, with the document's parcel count and the parcel's latest
assessed value as columns), assesses each in Python (the rules are pure) and writes the changed ones back with
one UPDATE per chunk (dealfinder.common.bulk.bulk_update_by_pk). A sale whose facts, rules and parameters are what
they were (`rules_hash`) is not rewritten, so a re-run converges and a second run writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Subquery

from dealfinder.common.bulk import bulk_update_by_pk
from properties.ingest.mapping import SALE_RULES
from properties.ingest.prepare import content_hash
from properties.models import DataSource, Sale, Valuation
from properties.sales_rules import RULES_VERSION, SaleFacts, SaleRulesParams, assess_sale

logger = logging.getLogger(__name__)

CHUNK = 2000
_ASSESSED = ("deed_kind", "parcel_count", "is_arms_length", "is_distressed", "is_purchase", "flags", "rules_hash")


@dataclass
class AssessSummary:
    assessed: int = 0
    changed: int = 0
    arms_length: int = 0


def sale_rules_params(*, source: DataSource) -> SaleRulesParams:
    """The source's arms-length parameters (its field mapping's "sale_rules"), else the defaults."""
    return SaleRulesParams.from_mapping((source.field_mapping or {}).get(SALE_RULES) or {})


def sales_assess(*, source: DataSource) -> AssessSummary:
    """Apply the arms-length rules to every sale of `source`; store the flags of those whose result changed."""
    params = sale_rules_params(source=source)
    settings_key = [RULES_VERSION, repr(params)]
    parcels = (
        Sale.objects.filter(source=source, document_id=OuterRef("document_id"))
        .order_by()
        .values("document_id")
        .annotate(n=Count("property_id", distinct=True))
        .values("n")
    )
    assessed = (
        Valuation.objects.filter(property_id=OuterRef("property_id"))
        .order_by(F("tax_year").desc(nulls_last=True), "-id")
        .values("assessed_value")[:1]
    )
    summary = AssessSummary()
    last = 0
    while True:
        rows = list(
            Sale.objects.filter(source=source, id__gt=last)
            .order_by("id")
            .annotate(documents_parcels=Subquery(parcels), assessed=Subquery(assessed))
            .values_list(
                "id", "sale_price", "deed_type", "grantor", "grantee", "documents_parcels", "assessed", "rules_hash"
            )[:CHUNK]
        )
        if not rows:
            return summary
        last = rows[-1][0]
        changed = []
        for pk, price, deed_type, grantor, grantee, parcel_count, assessed_value, stored in rows:
            facts = SaleFacts(
                price=price,
                deed_type=deed_type,
                grantors=grantor,
                grantees=grantee,
                parcel_count=parcel_count or 1,
                assessed_value=assessed_value,
            )
            result = assess_sale(facts, params)
            digest = content_hash([*settings_key, repr(facts)])
            summary.assessed += 1
            summary.arms_length += result.is_arms_length
            if digest == stored:
                continue
            changed.append(
                Sale(
                    pk=pk,
                    deed_kind=result.deed_kind.value,
                    parcel_count=facts.parcel_count,
                    is_arms_length=result.is_arms_length,
                    is_distressed=result.is_distressed,
                    is_purchase=result.is_purchase,
                    flags=[{"code": f.code.value, "reason": f.reason} for f in result.flags],
                    rules_hash=digest,
                )
            )
        summary.changed += bulk_update_by_pk(Sale, changed, fields=list(_ASSESSED))
