"""Discovered cash buyers stored and turned into buyers: linking instead of duplicating, the admin action and its
permission."""

import datetime
from decimal import Decimal

import pytest

from buyers.discovered import discovered_buyer_create_buyer, discovered_buyers_refresh
from buyers.models import Buyer, DiscoveredBuyer
from properties.models import Sale
from tests.factories import BrokerFactory, BuyerFactory, DataSourceFactory, PropertyFactory

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 3, 2)
CHANGELIST = "/admin/buyers/discoveredbuyer/"


def purchases(grantee="ACME HOMES LLC", zips=("32805", "32805", "32806")):
    mapping = {"parcel_id": "PIN", "document_id": "DOC", "mortgage_amount": "MTG"}  # the county publishes mortgages
    source = DataSourceFactory(dataset="sales", field_mapping=mapping)
    for n, zip_code in enumerate(zips):
        prop = PropertyFactory(zip=zip_code, property_type="sfr")
        prop.sales.create(
            source=source,
            external_id=f"D{n}",
            document_id=f"D{n}",
            sale_date=AS_OF - datetime.timedelta(days=30 * (n + 1)),
            sale_price=Decimal(100000 + 10000 * n),
            grantor="JONES PAUL",
            grantee=grantee,
            is_arms_length=True,
            is_purchase=True,
        )


def test_refresh_stores_each_buyer_once_and_drops_those_no_longer_discovered():
    purchases()
    _, summary = discovered_buyers_refresh(as_of=AS_OF)
    again, _ = discovered_buyers_refresh(as_of=AS_OF)
    stored = DiscoveredBuyer.objects.get()
    assert (stored.name, stored.purchase_count, stored.zips, stored.cash) == (
        "ACME HOMES LLC",
        3,
        ["32805", "32806"],
        True,
    )
    assert (stored.min_price, stored.max_price) == (Decimal("100000"), Decimal("120000"))
    assert (summary.discovered, summary.linked) == (1, 0) and len(again) == 1
    _, later = discovered_buyers_refresh(as_of=AS_OF + datetime.timedelta(days=3 * 365))
    assert later.removed == 1 and not DiscoveredBuyer.objects.exists()


def test_a_second_run_rewrites_only_what_changed():
    purchases()
    discovered_buyers_refresh(as_of=AS_OF)
    stamped = DiscoveredBuyer.objects.get().updated_at
    discovered_buyers_refresh(as_of=AS_OF)
    assert DiscoveredBuyer.objects.get().updated_at == stamped
    purchases(grantee="ACME HOMES LLC", zips=("32807",))  # one more purchase: the buyer changed
    discovered_buyers_refresh(as_of=AS_OF)
    changed = DiscoveredBuyer.objects.get()
    assert changed.purchase_count == 4
    assert changed.updated_at > stamped


def test_a_financed_purchase_is_no_evidence_where_mortgages_are_published():
    purchases(grantee="SMITH JOHN", zips=("32805", "32805"))
    Sale.objects.update(mortgage_amount=Decimal("90000"))
    assert discovered_buyers_refresh(as_of=AS_OF)[1].discovered == 0


def test_an_existing_buyer_with_the_same_name_is_linked_not_duplicated():
    existing = BuyerFactory(company="Acme Homes, L.L.C.")
    purchases()
    _, summary = discovered_buyers_refresh(as_of=AS_OF)
    assert summary.linked == 1
    buyer, created = discovered_buyer_create_buyer(discovered=DiscoveredBuyer.objects.get())
    assert (buyer, created) == (existing, False)
    assert Buyer.objects.count() == 1


def test_create_buyer_admin_action_needs_the_permission_to_add_buyers(client):
    purchases()
    discovered_buyers_refresh(as_of=AS_OF)
    pk = DiscoveredBuyer.objects.get().pk
    client.force_login(BrokerFactory())  # Acquisitions: no buyers permission
    assert client.post(CHANGELIST, {"action": "create_buyer", "_selected_action": [pk]}).status_code == 403
    client.force_login(BrokerFactory(role="Dispositions"))
    response = client.post(CHANGELIST, {"action": "create_buyer", "_selected_action": [pk]}, follow=True)
    assert response.status_code == 200
    buyer = Buyer.objects.get()
    assert (buyer.company, buyer.target_zips, buyer.property_types) == ("ACME HOMES LLC", ["32805", "32806"], ["sfr"])
    assert DiscoveredBuyer.objects.get().buyer == buyer
