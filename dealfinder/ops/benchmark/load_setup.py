"""The load test's side in the database: broker accounts, and a request mix built from the county's own data.

- `load_brokers_ensure(count=N)`: N staff users `load-broker-001...` in the Admin role (not superusers, so
  every permission check runs as for a real broker), each with a fresh random password, hashed with the
  production hasher (PBKDF2, whatever this process's PASSWORD_HASHERS say: tests use a fast one that the
  production server would refuse), and a fresh API token. Passwords and tokens exist only in the returned plan.
  Re-running resets them; `load_brokers_delete()` removes the accounts (and their tokens).
- `load_mix_build()`: the map's viewports (the county's extent and quarters; city blocks around the best
  leads), a value for every filter the map offers (leads.views.MAP_FILTERS, each distress kind on its own;
  thresholds at the county's medians), the API variants and each changelist's search terms (a parcel id, a
  street name, an owner, a buyer, a run's source), read from the data.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.contrib.gis.db.models import Extent
from django.db import connection, transaction

from buyers.models import Buyer, PropertyMatch
from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.models import ApiToken
from dealfinder.ops.roles import ADMIN, roles_setup
from leads.assignees import lead_assignees
from leads.filtersets import DISTRESS_CHOICES
from leads.models import Lead
from leads.views import MAP_FILTERS
from properties.models import IngestionRun, Listing, Property

from .load_mix import MixSpec, Params, Viewport, viewports_for
from .load_runner import BrokerLogin

USERNAME_PREFIX = "load-broker-"
CITY_VIEWS = 12  # city viewports, around the best leads
MIN_SPAN = 0.01  # degrees: a county extent of one point is padded to this
API_VARIANTS: list[tuple[str, Params]] = [
    ("plain", ()),
    ("ordering", (("ordering", "-score"),)),
    ("tier", (("tier", "A"),)),
    ("recent", (("ordering", "-updated_at"),)),
]


@transaction.atomic
def load_brokers_ensure(*, count: int) -> list[BrokerLogin]:
    if count < 1:
        raise ValueError("count must be at least 1")
    if not Group.objects.filter(name=ADMIN).exists():
        roles_setup()
    group = Group.objects.get(name=ADMIN)
    hasher = PBKDF2PasswordHasher()
    logins = []
    for n in range(1, count + 1):
        password = secrets.token_urlsafe(24)
        user, _ = get_user_model().objects.update_or_create(
            username=f"{USERNAME_PREFIX}{n:03d}",
            defaults={
                "email": f"{USERNAME_PREFIX}{n:03d}@load.invalid",
                "is_staff": True,
                "is_superuser": False,
                "is_active": True,
                "password": hasher.encode(password, hasher.salt()),
            },
        )
        user.groups.set([group])
        user.user_permissions.clear()
        ApiToken.objects.filter(user=user).delete()
        _, token = api_token_create(user=user, description="load test")
        logins.append(BrokerLogin(username=user.username, password=password, token=token))
    return logins


def load_brokers_delete() -> int:
    deleted, _ = get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).delete()
    return deleted


def _medians() -> dict[str, Decimal | None]:
    """Median ARV and MAO of the leads, and list price of active listings (one scan each)."""
    lead, listing = Lead._meta.db_table, Listing._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY arv), "  # noqa: S608 - table names from models
            f"percentile_disc(0.5) WITHIN GROUP (ORDER BY mao) FROM {lead}"
        )
        arv, mao = cursor.fetchone()
        cursor.execute(
            f"SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY list_price) FROM {listing} WHERE status = %s",  # noqa: S608
            [Listing.Status.ACTIVE],
        )
        (price,) = cursor.fetchone()
    return {"arv": arv, "mao": mao, "price": price}


def _number(value: Decimal | None, fallback: int) -> str:
    return str(int(value)) if value is not None else str(fallback)


def map_filter_variants() -> list[tuple[str, Params]]:
    """(name, query pairs) for every filter in leads.views.MAP_FILTERS; each distress kind is a variant."""
    medians = _medians()
    holder = Lead.objects.filter(assigned_to__isnull=False).values("assigned_to")
    assignee = lead_assignees().filter(pk__in=holder).first() or lead_assignees().first()
    values: dict[str, list[tuple[str, Params]]] = {
        "tier": [("tier", (("tier", "A"), ("tier", "B")))],
        "status": [("status", (("status", Lead.Status.NEW), ("status", Lead.Status.CONTACTED)))],
        "distress": [(f"distress:{kind}", (("distress", kind),)) for kind, _ in DISTRESS_CHOICES],
        "min_stack": [("min_stack", (("min_stack", "2"),))],
        "min_score": [("min_score", (("min_score", "60"),))],
        "max_score": [("max_score", (("max_score", "40"),))],
        "min_price": [("min_price", (("min_price", _number(medians["price"], 200_000)),))],
        "max_price": [("max_price", (("max_price", _number(medians["price"], 200_000)),))],
        "min_arv": [("min_arv", (("min_arv", _number(medians["arv"], 250_000)),))],
        "max_arv": [("max_arv", (("max_arv", _number(medians["arv"], 250_000)),))],
        "min_mao": [("min_mao", (("min_mao", _number(medians["mao"], 100_000)),))],
        "max_mao": [("max_mao", (("max_mao", _number(medians["mao"], 100_000)),))],
        "assigned_to": [("assigned_to", (("assigned_to", str(assignee.pk)),))] if assignee else [],
        "has_matches": [("has_matches", (("has_matches", "true"),))],
    }
    missing = set(MAP_FILTERS) - set(values)
    if missing:
        raise ValueError(f"map filters without a load-test value: {', '.join(sorted(missing))} (add them here)")
    return [variant for name in MAP_FILTERS for variant in values[name]]


def map_viewports() -> list[Viewport]:
    located = Property.objects.filter(location__isnull=False)
    extent = located.aggregate(extent=Extent("location"))["extent"]
    if extent is None:
        return []
    min_lon, min_lat, max_lon, max_lat = extent
    pad_lon, pad_lat = max(0.0, MIN_SPAN - (max_lon - min_lon)) / 2, max(0.0, MIN_SPAN - (max_lat - min_lat)) / 2
    extent = (min_lon - pad_lon, min_lat - pad_lat, max_lon + pad_lon, max_lat + pad_lat)
    best = Lead.objects.filter(property__location__isnull=False).order_by("-total", "id")[:CITY_VIEWS]
    centers = [(p.x, p.y) for p in best.values_list("property__location", flat=True)]
    return viewports_for(extent=extent, centers=centers)


def _street(address: str) -> str:
    """The street name of a normalized address ("123 MAIN ST" -> "MAIN")."""
    words = [w for w in address.split() if not w[:1].isdigit()]
    return words[0] if words else ""


def search_terms() -> dict[str, list[str]]:
    """What brokers type into each changelist's search box, taken from the data (empty values left out)."""
    top = Lead.objects.select_related("property").order_by("-total", "id").first()
    match = PropertyMatch.objects.select_related("property", "buyer").order_by("-score", "id").first()
    buyer = Buyer.objects.exclude(last_name="").order_by("id").first()
    run = IngestionRun.objects.exclude(source_label="").order_by("-id").first()
    prop = top.property if top else None
    owner = (prop.owner_name.split() or [""])[-1] if prop else ""
    terms = {
        "admin_properties": [prop.parcel_id, _street(prop.address_normalized), owner] if prop else [],
        "admin_leads": [prop.parcel_id, _street(prop.address_normalized), prop.zip] if prop else [],
        "admin_matches": [match.property.parcel_id, match.buyer.last_name] if match else [],
        "admin_buyers": [buyer.last_name, (buyer.company.split() or [""])[0]] if buyer else [],
        "admin_runs": [run.source_label.split()[0]] if run else [],
    }
    return {kind: [t for t in values if t] for kind, values in terms.items()}


def load_mix_build(*, weights: dict[str, float] | None = None) -> MixSpec:
    spec = MixSpec(
        viewports=map_viewports(),
        map_filters=map_filter_variants(),
        api_variants=list(API_VARIANTS),
        search_terms=search_terms(),
    )
    if weights is not None:
        spec.weights = dict(weights)
    spec.check()
    return spec
