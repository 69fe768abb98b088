"""The authorization matrix: every URL the project serves, for every role, has one expected outcome.

Every URL pattern the resolver knows must be classified here (`test_every_url_is_classified`): a new view,
admin page, registered model or API action without an entry fails the suite until someone decides who may
use it. Each role's test then makes every request and compares the outcome class with the table; the
failure message lists every cell that differs at once.

Outcome classes (exact status codes):
  LOGIN   302 to the login page (anonymous on HTML pages; staff-only admin pages)
  INDEX   302 to the admin index
  UNAUTH  401 (anonymous on the API: TokenAuthentication answers with WWW-Authenticate)
  DENIED  403
  OK      200 (a read; for the admin change page: the form is editable)
  READ    200, admin change page shown read-only (view permission without change)
  DONE    authorization passed, whatever the request's own merits: 2xx, 400 (an empty body or a missing
          bbox fails validation) or 409 (the lead cannot be pushed now)
  GONE    404 (an allowed DELETE of a missing row; an admin app or page the role has nothing in)
  PUBLIC  answered without a login: 200, or 503 for an unhealthy /healthz
  NOPE    405 (method not allowed, whoever asks)
"""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.reports.models import REPORTS
from dealfinder.ops.roles import ADMIN, roles_setup
from tests.factories import (
    ActivityFactory,
    AlertFactory,
    BacktestRunFactory,
    BuyerFactory,
    CodeViolationFactory,
    CompsMemoFactory,
    CompsMemoSaleFactory,
    CompsMemoSubjectFactory,
    ConsentFactory,
    DataSourceFactory,
    DeferredMessageFactory,
    DiscoveredBuyerFactory,
    DoNotContactFactory,
    ExternalLinkFactory,
    ForeclosureFactory,
    GeocodeCacheFactory,
    IngestionRunFactory,
    LeadContactPointFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    LeadSkipTraceFactory,
    LeadTierDayFactory,
    ListingFactory,
    MailCampaignFactory,
    MailOptOutFactory,
    MailPieceFactory,
    MailVerificationFactory,
    MatchingProfileFactory,
    OutcomeFactory,
    OwnerCorrectionFactory,
    OwnerFactory,
    OwnerInputFactory,
    PermissibleUseAcknowledgementFactory,
    PipelineRunFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertyMatchFactory,
    PropertySourceFactory,
    PushClaimFactory,
    QualityReportFactory,
    SaleFactory,
    ScoringProfileFactory,
    SkipTraceCallFactory,
    SyncConflictFactory,
    SyncLogFactory,
    TaxDelinquencyFactory,
    TaxSaleFactory,
    UserFactory,
    ValuationFactory,
    WebhookEventFactory,
)
from tests.security.authz_table import (
    ADMIN_EXTRA,
    ADMIN_MODELS,
    ADMIN_PAGES,
    ADMIN_SITE,
    ANON,
    APPS_BY_ROLE,
    DENIED,
    DONE,
    GONE,
    INDEX,
    KNOWN_HOLES,
    LOGIN,
    NOPE,
    OK,
    PUBLIC,
    READ,
    ROLES,
    SITE,
    TIER_DAY_PK,
    UNAUTH,
)

pytestmark = pytest.mark.django_db


def verdict(differences: list[tuple], role: str) -> None:
    """Fail on any difference not in KNOWN_HOLES; xfail while only known holes remain."""
    unknown = [d for d in differences if (next(x for x in d if str(x).startswith("/")), role) not in KNOWN_HOLES]
    assert not unknown, "\n".join(map(str, unknown))
    if differences:
        pytest.xfail(f"known holes (see KNOWN_HOLES): {differences}")


# --- Walking the resolver ----------------------------------------------------------------------------------------


def all_patterns(patterns=None, prefix="", namespace=""):
    """(route, name) of every URL the project serves; unnamed admin routes get a descriptive name."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(x for x in (namespace, p.namespace) if x)
            yield from all_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            if not p.name and route.startswith("admin/"):
                name = "admin:<catch-all>" if route.endswith("(?P<url>.*)$") else "admin:<bare change>"
            yield route, name


def admin_model_name(name: str):
    """'admin:buyers_buyer_changelist' -> ('buyers.buyer', 'changelist') for registered models."""
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            return model._meta.label_lower, name[len(prefix) :]
    return None


def test_every_url_is_classified():
    registered = {m._meta.label_lower for m in admin.site._registry}
    assert registered == set(ADMIN_MODELS), "classify each admin model in ADMIN_MODELS (and only those)"
    unclassified = []
    for route, name in all_patterns():
        found = admin_model_name(name)
        if found:
            label, page = found
            if page not in ADMIN_PAGES and page not in ADMIN_EXTRA.get(label, {}):
                unclassified.append((route, name))
        elif name == "admin:<bare change>":
            continue
        elif name not in SITE and name not in ADMIN_SITE:
            unclassified.append((route, name))
    assert unclassified == []


# --- Fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    """One row of every admin model, the role users, and the objects detail routes point at."""
    cache.clear()
    roles_setup()
    users = {}
    for role in ROLES[1:]:
        user = UserFactory(username=f"matrix-{role.lower()}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        users[role] = user
    prop = PropertyFactory()
    lead = LeadFactory(property=prop)
    source = DataSourceFactory()
    buyer = BuyerFactory()
    every = [
        prop,
        lead,
        source,
        buyer,
        TaxSaleFactory(property=prop),
        ForeclosureFactory(property=prop),
        ValuationFactory(property=prop),
        TaxDelinquencyFactory(property=prop),
        CodeViolationFactory(property=prop),
        listing := ListingFactory(property=prop),
        PriceChangeFactory(listing=listing),
        IngestionRunFactory(source=source),
        PropertySourceFactory(property=prop, source=source),
        GeocodeCacheFactory(),
        OwnerInputFactory(property=prop),
        QualityReportFactory(),
        LeadScoreHistoryFactory(lead=lead),
        ScoringProfileFactory(),
        ActivityFactory(lead=lead),
        AlertFactory(),
        PropertyMatchFactory(property=prop, buyer=buyer),
        MatchingProfileFactory(),
        SyncLogFactory(),
        link := ExternalLinkFactory(local=lead),
        SyncConflictFactory(link=link),
        WebhookEventFactory(),
        PushClaimFactory(lead=lead),
        DeferredMessageFactory(lead=lead),
        PipelineRunFactory(),
        interval := IntervalSchedule.objects.create(every=1, period="days"),
        PeriodicTask.objects.create(name="matrix", task="dealfinder.ops.tasks.nightly", interval=interval),
        CrontabSchedule.objects.create(minute="0", hour="2"),
        SolarSchedule.objects.create(event="sunrise", latitude=28.5, longitude=-81.4),
        ClockedSchedule.objects.create(clocked_time="2026-03-08T02:30:00Z"),
        api_token_create(user=users[ADMIN])[0],
        AccessAttempt.objects.create(username="x", ip_address="203.0.113.7", failures_since_start=1),
        AccessLog.objects.create(username="x", ip_address="203.0.113.7"),
        AccessFailureLog.objects.create(username="x", ip_address="203.0.113.7"),
        Group.objects.get(name=ADMIN),
        users[ADMIN],
        OwnerFactory(),
        OwnerCorrectionFactory(),
        SaleFactory(property=prop),
        LeadTierDayFactory(pk=TIER_DAY_PK),  # a fixed pk: KNOWN_HOLES names its delete page
        OutcomeFactory(lead=LeadFactory()),
        BacktestRunFactory(),
        DiscoveredBuyerFactory(),
        ConsentFactory(),
        DoNotContactFactory(),
        MailCampaignFactory(),
        MailPieceFactory(),
        MailVerificationFactory(),
        MailOptOutFactory(),
        PermissibleUseAcknowledgementFactory(),
        SkipTraceCallFactory(),
        LeadSkipTraceFactory(),
        LeadContactPointFactory(),
        CompsMemoFactory(),
        CompsMemoSubjectFactory(),
        CompsMemoSaleFactory(),
    ]
    objects = {obj._meta.label_lower: obj for obj in every}
    registered = {m._meta.label_lower: m for m in admin.site._registry}
    extra_rows = {  # models without a factory: the fields they need
        "leads.mappoint": {"lead": lead, "location": prop.location, "tier": "A", "total": 80},
        "leads.mapgridcell": {"level": 0, "cx": 0, "cy": 0, "tier": "A", "n": 1, "sum_lon": -81.4, "sum_lat": 28.5},
        "leads.mapgridstate": {"built_at": "2026-03-08T07:00:00Z"},
        "leads.mappending": {"lead_id": lead.pk},
    }
    for label, fields in extra_rows.items():
        if label in registered:
            objects[label] = registered[label].objects.create(**fields)
    # The reporting views (dealfinder.ops.reports): rows of the data underneath, read back through each view.
    LeadFactory(total=95, tier="A")
    SyncLogFactory()
    for model in REPORTS.values():
        objects[model._meta.label_lower] = model.objects.first()
    return {"users": users, "objects": objects}


def client_for(world, role) -> Client:
    client = Client()
    if role != ANON:
        client.force_login(world["users"][role])
    return client


# --- Classifying responses ----------------------------------------------------------------------------------------


def outcome(response, *, method: str) -> str:
    code = response.status_code
    if code == 302 and re.match(r"^/admin/login/(\?next=|$)", response.headers.get("Location", "")):
        return LOGIN
    if code == 302 and response.headers.get("Location") == "/admin/":
        return INDEX
    if code == 302:
        return f"302 -> {response.headers.get('Location')}"
    if code == 401:
        return UNAUTH
    if code == 403:
        return DENIED
    if code == 404:
        return GONE
    if code == 405:
        return NOPE
    if method in ("GET", "HEAD") and code == 200:
        editable = getattr(response, "context_data", None) or {}
        if editable.get("change") and editable.get("has_change_permission") is False:
            return READ
        return OK
    if 200 <= code < 300 or code in (400, 409):
        return DONE
    return str(code)


def matches(want: str, got: str) -> bool:
    if want == PUBLIC:
        return got in (OK, "503")
    if want == DONE:
        return got in (OK, DONE)
    return want == got


def request(client, method, url, *, api):
    kwargs = {"content_type": "application/json", "data": "{}"} if method in ("POST", "PATCH", "PUT") else {}
    headers = {"HTTP_ACCEPT": "application/json"} if api else {}
    return getattr(client, method.lower())(url, **kwargs, **headers)


def expected_admin(label: str, role: str, page: str) -> str:
    if role == ANON:
        return LOGIN
    actions = dict(zip(ROLES[1:], ADMIN_MODELS[label], strict=True))[role]
    needed = {"changelist": "v", "add": "a", "history": "v", "delete": "d", "change": "v"}
    needed.update(ADMIN_EXTRA.get(label, {}))
    if page == "change":
        if "c" in actions:
            return OK
        return READ if "v" in actions else DENIED
    if page == "history" and "v" not in actions and "c" not in actions:
        return DENIED
    return OK if needed[page] in actions else DENIED


def admin_url(label, page, obj) -> str:
    app, model = label.split(".")
    base = f"/admin/{app}/{model}/"
    if page == "changelist":
        return base
    if page in ("add", "import", "export", "process_import", "add_from_url"):
        return f"{base}{page.replace('add_from_url', 'add-from-url')}/"
    if page == "password_change":
        return f"{base}{obj.pk}/password/"
    return f"{base}{obj.pk}/{page}/"


@pytest.mark.parametrize("role", ROLES)
def test_admin_model_pages(world, role):
    client = client_for(world, role)
    differences = []
    for label in ADMIN_MODELS:
        obj = world["objects"][label]
        for page in ("changelist", "add", "change", "history", "delete", *ADMIN_EXTRA.get(label, {})):
            if page == "process_import":
                continue  # needs an uploaded file's import id; the import page's verdict covers it
            url = admin_url(label, page, obj)
            got = outcome(client.get(url), method="GET")
            want = expected_admin(label, role, page)
            if got != want:
                differences.append((url, want, got))
    verdict(differences, role)


@pytest.mark.parametrize("role", ROLES)
def test_admin_site_pages(world, role):
    client = client_for(world, role)
    prop = world["objects"]["properties.property"]
    urls = {
        "admin:index": "/admin/",
        "admin:login": "/admin/login/",
        "admin:logout": "/admin/logout/",
        "admin:password_change": "/admin/password_change/",
        "admin:password_change_done": "/admin/password_change/done/",
        "admin:autocomplete": "/admin/autocomplete/",
        "admin:jsi18n": "/admin/jsi18n/",
        "admin:view_on_site": f"/admin/r/{ContentType.objects.get_for_model(prop).pk}/{prop.pk}/",
        "admin:<catch-all>": "/admin/no-such-page/",
    }
    differences = []
    for name, url in urls.items():
        for method, want in ADMIN_SITE[name].items():
            got = outcome(request(client, method, url, api=False), method=method)
            if not matches(want[role], got):
                differences.append((method, url, want[role], got))
    for app in APPS_BY_ROLE[ADMIN]:
        want = LOGIN if role == ANON else (OK if app in APPS_BY_ROLE[role] else GONE)
        got = outcome(client.get(f"/admin/{app}/"), method="GET")
        if got != want:
            differences.append(("GET", f"/admin/{app}/", want, got))
    verdict(differences, role)


# Detail routes: which object each one points at. DELETE and ingest use a missing row (authorization is
# checked before the lookup, so an allowed caller gets 404 and nothing is deleted or fetched).
MISSING = 999999
DETAIL_OBJECT = {
    "lead-detail": "leads.lead",
    "lead-rescore": "leads.lead",
    "lead-push-push": "leads.lead",
    "lead-comps": "leads.lead",
    "property-detail": "properties.property",
    "buyer-detail": "buyers.buyer",
    "match-detail": "buyers.propertymatch",
    "datasource-detail": "properties.datasource",
    "datasource-health": "properties.datasource",
    "ingestionrun-detail": "properties.ingestionrun",
    "synclog-detail": "sync.synclog",
}


def site_url(name: str, method: str, world) -> str:
    route = {n: r for r, n in all_patterns()}[name].replace("^", "").replace("$", "")
    if "(?P<pk>" in route:
        label = DETAIL_OBJECT.get(name)
        pk = MISSING if method == "DELETE" or label is None else world["objects"][label].pk
        route = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), route)
    return "/" + route


@pytest.mark.parametrize("role", ROLES)
def test_site_and_api(world, role):
    client = client_for(world, role)
    differences = []
    for name, methods in SITE.items():
        for method, want in methods.items():
            url = site_url(name, method, world)
            got = outcome(request(client, method, url, api=url.startswith("/api/v1/")), method=method)
            if not matches(want[role], got):
                differences.append((method, url, want[role], got))
    verdict(differences, role)
