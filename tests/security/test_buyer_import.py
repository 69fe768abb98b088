"""The buyer import's confirm step reads only the file uploaded in the same session (issue 16, item 6).

django-import-export keeps the upload between the preview and the confirm step and names it in a hidden
`import_file_name` field; by default it reads (and then deletes) that name in the temp folder, whatever the
client posts. Here the upload waits in the cache, and the name is signed for the uploading session.
"""

import io
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from buyers.models import Buyer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORT = "/admin/buyers/buyer/import/"
CONFIRM = "/admin/buyers/buyer/process_import/"
CSV_FORMAT, XLSX_FORMAT = "0", "1"
ROWS = [["email", "first_name", "target_zips"], ["nia@example.test", "Nia", "32805"]]
BUYERS_CSV = b"email,first_name,target_zips\nnia@example.test,Nia,32805\n"


def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def preview(client, body: bytes, name="buyers.csv", file_format=CSV_FORMAT):
    return client.post(IMPORT, {"import_file": SimpleUploadedFile(name, body), "format": file_format, "resource": "0"})


def confirm_data(response) -> dict:
    form = response.context["confirm_form"]
    return {name: form.initial.get(name, "") for name in form.fields}


def test_preview_then_confirm_imports_the_upload():
    client = staff_client()
    response = client.post(CONFIRM, confirm_data(preview(client, BUYERS_CSV)))
    assert response.status_code == 302
    assert list(Buyer.objects.values_list("email", "first_name", "source")) == [("nia@example.test", "Nia", "import")]


def test_an_xlsx_workbook_imports_too():
    workbook = openpyxl.Workbook()
    for row in ROWS:
        workbook.active.append(row)
    body = io.BytesIO()
    workbook.save(body)
    client = staff_client()
    response = client.post(CONFIRM, confirm_data(preview(client, body.getvalue(), "buyers.xlsx", XLSX_FORMAT)))
    assert response.status_code == 302
    assert Buyer.objects.get().target_zips == ["32805"]


def test_a_posted_file_name_cannot_read_or_delete_a_file_of_the_server():
    """The old confirm step imported /tmp/<any name> and then deleted it."""
    victim = Path(tempfile.gettempdir()) / "dealfinder-victim-buyers.csv"
    victim.write_bytes(BUYERS_CSV)
    try:
        client = staff_client()
        data = {"import_file_name": victim.name, "original_file_name": "x.csv", "format": CSV_FORMAT, "resource": "0"}
        response = client.post(CONFIRM, data)
        assert response.status_code == 200
        assert response.context["confirm_form"].errors == {
            "import_file_name": ["This import was not uploaded in your session: upload the file again."]
        }
        assert victim.read_bytes() == BUYERS_CSV
        assert not Buyer.objects.exists()
    finally:
        victim.unlink(missing_ok=True)


def test_another_session_cannot_confirm_my_upload():
    mine = staff_client()
    data = confirm_data(preview(mine, BUYERS_CSV))
    response = staff_client().post(CONFIRM, data)
    assert response.context["confirm_form"].errors == {
        "import_file_name": ["This import was not uploaded in your session: upload the file again."]
    }
    assert not Buyer.objects.exists()
    assert mine.post(CONFIRM, data).status_code == 302  # still mine to confirm


def test_an_upload_that_is_gone_is_said_so(settings):
    from django.core.cache import cache

    client = staff_client()
    data = confirm_data(preview(client, BUYERS_CSV))
    cache.clear()
    response = client.post(CONFIRM, data)
    assert response.context["confirm_form"].errors == {
        "import_file_name": [
            "The uploaded file is no longer available (older than an hour, or the cache was emptied): upload it again."
        ]
    }
    assert not Buyer.objects.exists()


@pytest.mark.parametrize("name", ["buyers.yaml", "buyers.json"])
def test_only_csv_and_xlsx_are_accepted(name):
    """YAML (aliases: a few bytes expand to gigabytes) and the other tablib formats are not offered."""
    client = staff_client()
    response = client.post(IMPORT, {"import_file": SimpleUploadedFile(name, b"a: &a [1]\n"), "format": "2"})
    assert response.status_code == 200
    assert "format" in response.context["form"].errors
    assert not Buyer.objects.exists()


def test_a_workbook_that_unpacks_to_far_more_than_the_limit_is_refused(settings):
    settings.BUYER_IMPORT_MAX_BYTES = 10_000
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<c>0</c>" * 20_000)  # 160 KB of XML in a few hundred bytes
    client = staff_client()
    response = preview(client, body.getvalue(), "bomb.xlsx", XLSX_FORMAT)
    assert response.context["form"].errors["import_file"] == [
        "The workbook unpacks to 160,000 bytes; buyer imports take at most 100,000. Save it as CSV or split it."
    ]
