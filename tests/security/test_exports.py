"""Every CSV/XLSX DealFinder writes neutralises cells a spreadsheet would run as a formula (issue 16, item 7).

Owner names, addresses and buyer fields come from public records, imports and GoHighLevel: a value such as
=HYPERLINK(...) must reach the broker's spreadsheet as text (OWASP: a leading single quote), in the lead
export action, the map export, the blast list and the buyer export alike.
"""

import csv
import io

import openpyxl
import pytest
from django.contrib.gis.geos import Point

from buyers.models import Buyer
from dealfinder.common.csv_safe import safe_cell
from tests.factories import BuyerFactory, LeadFactory, PropertyFactory, PropertyMatchFactory, UserFactory

pytestmark = pytest.mark.django_db

HOSTILE = {
    '=HYPERLINK("https://evil.example","click")': '\'=HYPERLINK("https://evil.example","click")',
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
}

OWNER, ADDRESS = list(HOSTILE)[:2]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *HOSTILE.items(),
        ("-12.5", "-12.5"),  # a number stays a number
        ("+14075550001", "+14075550001"),  # so does a phone number
        ("1e5", "1e5"),
        ("-", "'-"),
        ("JOHN = JANE", "JOHN = JANE"),  # only the first character counts
        ("", ""),
        (None, None),
        (42, 42),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def hostile_lead(db):
    owner, address = OWNER, ADDRESS
    prop = PropertyFactory(owner_name=owner, address_normalized=address, location=Point(-81.38, 28.54, srid=4326))
    return LeadFactory(property=prop, tier="A", total=90, reasons=["@risk (+5)"])


def test_the_lead_export_action_neutralises_formulas(staff, hostile_lead):
    response = staff.post("/admin/leads/lead/", {"action": "export_csv", "_selected_action": [hostile_lead.pk]})
    header, row = read_csv(response)
    values = dict(zip(header, row, strict=True))
    assert (values["owner"], values["address"], values["reasons"]) == (
        HOSTILE[OWNER],
        HOSTILE[ADDRESS],
        "'@risk (+5)",
    )
    assert (values["score"], values["tier"]) == ("90", "A")


def test_the_map_export_neutralises_formulas(staff, hostile_lead):
    square = "POLYGON ((-81.4 28.5, -81.3 28.5, -81.3 28.6, -81.4 28.6, -81.4 28.5))"
    header, row = read_csv(staff.post("/map/export.csv", {"shape": square}))
    assert dict(zip(header, row, strict=True))["owner"] == HOSTILE[OWNER]


def test_the_blast_list_neutralises_formulas(staff):
    buyer = BuyerFactory(first_name="=1+1", last_name="", email="@evil.example", phone="+14075550001")
    lead = LeadFactory(property__address_normalized="-1+1 MAIN ST")
    match = PropertyMatchFactory(buyer=buyer, property=lead.property, score=90, reasons=["\tcash"])
    response = staff.post(
        "/admin/buyers/propertymatch/", {"action": "export_blast_list", "_selected_action": [match.pk]}
    )
    assert read_csv(response)[1] == ["'=1+1", "+14075550001", "'@evil.example", "no", "'-1+1 MAIN ST", "90", "'\tcash"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_buyer_export_neutralises_formulas(staff, file_format):
    BuyerFactory(email="ann@example.test", first_name='=HYPERLINK("x")', company="+SUM(A1)", notes="@me")
    choices = staff.get("/admin/buyers/buyer/export/").context["form"].fields["format"].choices
    index = next(value for value, label in choices if label == file_format)
    response = staff.post(
        "/admin/buyers/buyer/export/",
        {"format": str(index), "resource": "0", "export_items": [b.pk for b in Buyer.objects.all()]}
        | {f"buyerresource_{name}": "on" for name in ("email", "first_name", "company", "phone", "notes")},
    )
    assert response.status_code == 200, response.content[:500]
    if file_format == "csv":
        header, row = read_csv(response)
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        header, row = ([("" if c is None else str(c)) for c in r] for r in sheet.iter_rows(values_only=True))
    values = dict(zip(header, row, strict=True))
    assert (values["first_name"], values["company"], values["notes"], values["phone"]) == (
        '\'=HYPERLINK("x")',
        "'+SUM(A1)",
        "'@me",
        Buyer.objects.get().phone,
    )


def test_only_csv_and_xlsx_are_offered(staff):
    for page in ("/admin/buyers/buyer/import/", "/admin/buyers/buyer/export/"):
        choices = staff.get(page).context["form"].fields["format"].choices
        assert [label for _, label in choices][-2:] == ["csv", "xlsx"]
        assert len([c for c in choices if c[0] != ""]) == 2
