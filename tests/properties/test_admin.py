import pytest
from django.urls import reverse

from tests.factories import IngestionRunFactory

pytestmark = pytest.mark.django_db


def test_a_runs_page_shows_how_each_field_read(admin_client):
    sale = {"filled": 3, "blank": 0, "sentinel": 1, "bad": 0, "examples": ["record 2: SALE: 0 read as unknown"]}
    location = {"filled": 2, "blank": 1, "sentinel": 0, "bad": 1, "examples": ["record 4: (0, 0) is no place"]}
    stats = {"last_sale_price": sale, "location": location}
    run = IngestionRunFactory(processed=4, stored=4, unplaced=2, duplicates=0, field_stats=stats)
    page = admin_client.get(reverse("admin:properties_ingestionrun_change", args=[run.pk])).content.decode()
    assert "<td>last_sale_price</td><td>75%</td><td>3</td><td>0</td><td>1</td><td>0</td>" in page
    assert "<li>record 2: SALE: 0 read as unknown</li>" in page
    assert "<td>location</td><td>50%</td>" in page
    listing = admin_client.get(reverse("admin:properties_ingestionrun_changelist")).content.decode()
    assert "unplaced" in listing.lower()
