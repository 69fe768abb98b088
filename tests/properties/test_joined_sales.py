"""A sales source in three tables joined on the document id, as New York's ACRIS publishes deeds (issue 21 item 1):
master + parties + legals, each a Socrata dataset faked at the HTTP layer."""

import datetime as dt
from decimal import Decimal

import pytest

from properties import models as m
from properties.ingest.mapping import FieldMapping, MappingError
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory
from tests.fakes.socrata import load_socrata_fixture

D1, D2, D3, D4, D5 = ("2024011000111001", "2024020500222001", "2024031400333001", "2024041800444001",
                      "2024042200777001")  # fmt: skip


@pytest.fixture
def acris(fake_socrata_dataset):
    """The three ACRIS tables: five deeds (one over three lots, one to two buyers, a $0 family transfer, one
    without a legal row), a party and a legal row whose document the master does not hold."""
    return {
        name: fake_socrata_dataset(load_socrata_fixture(f"acris-{name}"), dataset_id=dataset_id, name=title)
        for name, dataset_id, title in (
            ("master", "bnx9-e6tj", "ACRIS - Real Property Master"),
            ("parties", "636b-3b5g", "ACRIS - Real Property Parties"),
            ("legals", "8h5j-fqxa", "ACRIS - Real Property Legals"),
        )
    }


def acris_mapping(acris, **tables) -> dict:
    return {
        "tables": {
            "key": "document_id",
            "parties": {"url": acris["parties"].url, "key": "document_id", "role": "party_type", "name": "name",
                        "grantor": ["1"], "grantee": ["2"]},
            "legals": {"url": acris["legals"].url, "key": "document_id"},
            **tables,
        },
        "parcel_id": {"concat": ["borough", "block", "lot"], "sep": "-"},
        "document_id": "document_id",
        "sale_date": "document_date",
        "recording_date": "recorded_datetime",
        "sale_price": "document_amt",
        "deed_type": "doc_type",
        "grantor": "grantor",
        "grantee": "grantee",
        "street": {"concat": ["street_number", "street_name"]},
        "unit": "unit",
        "state": {"value": "NY"},
    }  # fmt: skip


def acris_source(acris, **tables) -> m.DataSource:
    return DataSourceFactory(
        slug="nyc-acris-deeds",
        kind=m.DataSource.Kind.SOCRATA,
        dataset=m.DataSource.Dataset.SALES,
        url=acris["master"].url,
        where="",
        field_mapping=acris_mapping(acris, **tables),
        county="New York",
        enabled=True,
    )


MISSING = "{} of document {}, which the master table does not hold"
ERRORS = [
    {"record": "row-m05~acr05", "reason": f"document {D5} has no legal (parcel) row"},
    {"record": "party row-p17~acr17", "reason": MISSING.format("party", "2024050100555001")},
    {"record": "legal row-l24~acr24", "reason": MISSING.format("legal", "2024050100666001")},
]


def sales() -> list[tuple]:
    return list(
        m.Sale.objects.order_by("document_id", "property__parcel_id").values_list(
            "document_id", "property__parcel_id", "grantor", "grantee", "sale_price", "parcel_count", "is_arms_length"
        )
    )


@pytest.mark.django_db
def test_master_parties_and_legals_join_into_one_sale_per_document_and_parcel(acris):
    source = acris_source(acris)

    first = datasource_ingest(source_id=source.pk)
    stored = sales()
    second = datasource_ingest(source_id=source.pk)

    assert (first.status, first.processed, first.inserted, first.failed) == ("partial", 9, 6, 3)
    assert first.errors == ERRORS
    assert stored == [
        (D1, "3-1045-37", "KOWALSKI, ANNA", "OKAFOR, CHIDI", Decimal("850000.00"), 1, True),
        (D2, "1-500-10", "HUDSON ROW HOLDINGS LLC", "EMPIRE ROW PROPERTIES LLC", Decimal("2400000.00"), 3, False),
        (D2, "1-500-11", "HUDSON ROW HOLDINGS LLC", "EMPIRE ROW PROPERTIES LLC", Decimal("2400000.00"), 3, False),
        (D2, "1-500-12", "HUDSON ROW HOLDINGS LLC", "EMPIRE ROW PROPERTIES LLC", Decimal("2400000.00"), 3, False),
        (D3, "4-5012-22", "CHEN, DAVID", "GARCIA, MARIA; LOPEZ, ANA", Decimal("1150000.00"), 1, True),
        (D4, "2-2831-15", "BROWN, JAMES", "BROWN, LISA", Decimal("0.00"), 1, False),
    ]
    # A re-run converges: the same records, nothing rewritten, the same rows refused for the same reasons.
    assert (second.status, second.processed, second.inserted, second.updated, second.unchanged) == (
        "partial", 9, 0, 0, 6,
    )  # fmt: skip
    assert second.errors == ERRORS and sales() == stored
    # Each table was read once per run: its rows, then the page that says there are no more.
    assert [len(acris[name].requests) for name in ("master", "parties", "legals")] == [2, 2, 2]


@pytest.mark.django_db
def test_the_arms_length_rules_see_the_joined_deeds(acris):
    datasource_ingest(source_id=acris_source(acris).pk)

    flags = {
        (doc, pid): sorted(f["code"] for f in fl)
        for doc, pid, fl in m.Sale.objects.values_list("document_id", "property__parcel_id", "flags")
    }
    assert flags == {
        (D1, "3-1045-37"): [],
        (D2, "1-500-10"): ["multi_parcel"],
        (D2, "1-500-11"): ["multi_parcel"],
        (D2, "1-500-12"): ["multi_parcel"],
        (D3, "4-5012-22"): [],
        (D4, "2-2831-15"): ["nominal_price", "related_parties"],
    }
    sale = m.Sale.objects.get(document_id=D3)
    assert (sale.sale_date, sale.recording_date, sale.deed_type) == (dt.date(2024, 3, 8), dt.date(2024, 3, 14), "DEED")
    assert sale.property.address_normalized.startswith("41-20 162ND ST")


@pytest.mark.django_db
def test_a_party_added_later_updates_its_sale_and_nothing_else(acris):
    source = acris_source(acris)
    datasource_ingest(source_id=source.pk)
    buyer = {**acris["parties"].rows[1], ":id": "row-p99~acr99", "name": "OKAFOR, NGOZI"}
    acris["parties"].rows.append(buyer)

    run = datasource_ingest(source_id=source.pk)

    assert (run.inserted, run.updated, run.unchanged, run.failed) == (0, 1, 5, 3)
    assert m.Sale.objects.get(document_id=D1).grantee == "OKAFOR, CHIDI; OKAFOR, NGOZI"


@pytest.mark.django_db
def test_an_unreadable_parties_table_fails_the_run_and_keeps_the_stored_sales(acris):
    source = acris_source(acris)
    datasource_ingest(source_id=source.pk)
    acris["parties"].fail_pages = {1: 404}

    run = datasource_ingest(source_id=source.pk)

    assert run.status == "failed"
    assert run.message.startswith(f"SourceError: the parties table ({acris['parties'].url}) could not be read: page 1:")
    assert m.Sale.objects.count() == 6


@pytest.mark.django_db
def test_child_tables_larger_than_the_join_may_hold_fail_the_run_clearly(acris, settings):
    """Parties and legals are held in memory while joined: past INGEST_JOIN_MAX_ROWS the run fails with what to do,
    and the stored sales stay."""
    source = acris_source(acris)
    datasource_ingest(source_id=source.pk)
    held = len(load_socrata_fixture("acris-parties")) + len(load_socrata_fixture("acris-legals"))
    settings.INGEST_JOIN_MAX_ROWS = held - 1

    run = datasource_ingest(source_id=source.pk)

    assert run.status == "failed"
    assert run.message == (
        f"SourceError: the parties and legals tables hold more than {held - 1:,} rows, more than a join in memory may "
        'hold: narrow each table\'s "where" to the documents of this source (e.g. those recorded in the last two '
        "years), or raise INGEST_JOIN_MAX_ROWS"
    )
    assert m.Sale.objects.count() == 6
    settings.INGEST_JOIN_MAX_ROWS = held
    assert datasource_ingest(source_id=source.pk).status == "partial"  # the refused rows of ERRORS, as always


@pytest.mark.django_db
def test_the_joined_schema_is_checked_before_anything_is_fetched(acris):
    source = acris_source(acris)
    source.field_mapping = {**source.field_mapping, "mortgage_amount": "mortgage_amt"}
    source.save()

    run = datasource_ingest(source_id=source.pk)

    assert run.status == "failed" and "mortgage_amt" in run.message
    assert run.schema["grantee"] == "text" and run.schema["block"] == "text" and run.schema["doc_type"] == "text"
    assert [len(acris[name].requests) for name in ("master", "parties", "legals")] == [0, 0, 0]


BASE = {"parcel_id": "BBL", "document_id": "document_id"}
TABLE = {"url": "https://data.cityofnewyork.us/resource/636b-3b5g.json", "key": "document_id"}


def test_a_joined_mapping_is_accepted_with_its_defaults():
    mapping = FieldMapping.from_config("sales", {**BASE, "tables": {"parties": TABLE, "legals": TABLE}})
    assert mapping.targets == ("parcel_id", "document_id")


@pytest.mark.parametrize(
    ("dataset", "tables", "message"),
    [
        ("parcels", {"legals": TABLE}, "'tables' .* belongs to a sales mapping"),
        ("sales", ["parties"], 'tables: "tables" must be a JSON object'),
        ("sales", {"key": "document_id"}, "tables: name the parties and/or the legals table to join"),
        ("sales", {"deeds": TABLE}, r"tables: unknown keys \['deeds'\]"),
        ("sales", {"legals": {"key": "document_id"}}, "tables: legals: 'url' must be a non-blank text"),
        ("sales", {"legals": {**TABLE, "url": "ftp://x/y"}}, "tables: legals: the url must be http"),
        ("sales", {"legals": {**TABLE, "kind": "wfs"}}, "tables: legals: kind must be one of socrata, arcgis"),
        ("sales", {"parties": {**TABLE, "grantor": ["1"], "grantee": ["1", "2"]}}, "cannot mean both"),
        ("sales", {"parties": {**TABLE, "side": "x"}}, r"tables: parties: unknown keys \['side'\]"),
    ],
)
def test_a_bad_join_is_refused_before_anything_is_fetched(dataset, tables, message):
    with pytest.raises(MappingError, match=message):
        FieldMapping.from_config(dataset, {**BASE, "tables": tables})


@pytest.mark.django_db
def test_a_legals_only_join_places_each_document_on_its_lots(acris):
    source = acris_source(acris)
    source.field_mapping = {k: v for k, v in source.field_mapping.items() if k not in ("grantor", "grantee")}
    source.field_mapping["tables"] = {"key": "document_id", "legals": {"url": acris["legals"].url}}
    source.save()

    run = datasource_ingest(source_id=source.pk)

    assert (run.inserted, run.failed) == (6, 2)  # the orphaned party is not read: no parties table
    assert [e["record"] for e in run.errors] == ["row-m05~acr05", "legal row-l24~acr24"]
    assert set(m.Sale.objects.values_list("grantee", flat=True)) == {""}
    assert len(acris["parties"].requests) == 0


@pytest.mark.django_db
def test_a_failed_master_page_reports_no_orphans(acris):
    acris["master"].fail_pages = {1: 404}

    run = datasource_ingest(source_id=acris_source(acris).pk)

    assert (run.status, run.pages_failed, run.inserted) == ("failed", 1, 0)
    assert [e.get("page") for e in run.errors] == [1]  # its parties and legals may be on that page: not blamed


@pytest.mark.django_db
def test_the_probe_dry_runs_a_joined_mapping_over_the_joined_sample(acris):
    from properties.onboarding.probe import source_probe

    result = source_probe(url=acris["master"].url, kind="socrata", dataset="sales", mapping=acris_mapping(acris))

    assert [p.message for p in result.problems if p.level == "error"] == []
    assert (result.dry_run.records, result.dry_run.loadable) == (6, 6)
    assert result.dry_run.targets["grantee"].values[:3] == [
        "OKAFOR, CHIDI", "EMPIRE ROW PROPERTIES LLC", "GARCIA, MARIA; LOPEZ, ANA",
    ]  # fmt: skip
    assert [(p.target, p.message) for p in result.problems] == [
        (None, f"sample record row-m05~acr05: document {D5} has no legal (parcel) row"),
    ]
    fields = {f["name"]: f["type"] for f in result.as_json()["fields"]}
    assert fields["grantor"] == "text" and "block" in fields
    where = acris["parties"].requests[-1][0]["$where"]
    assert where == f"document_id IN ('{D1}', '{D2}', '{D3}', '{D4}', '{D5}')"
