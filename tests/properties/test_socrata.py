import pytest

from properties.ingest.http import RETRY_ATTEMPTS
from properties.ingest.socrata import SocrataReader, socrata_point
from tests.fakes.socrata import load_socrata_fixture

ROWS = load_socrata_fixture("orlando-code-enforcement")


def read(url, **options) -> list:
    return list(SocrataReader(url, retry_wait=0, **options))


def test_pages_by_limit_and_offset_in_id_order_with_the_app_token(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS)

    pages = read(dataset.url, page_size=3, app_token="test-token")

    assert [p.number for p in pages] == [1, 2, 3]
    assert [len(p.records) for p in pages] == [3, 3, 1]
    assert [r.external_id for p in pages for r in p.records] == sorted(row[":id"] for row in ROWS)
    assert [params for params, _headers in dataset.requests] == [
        {"$select": ":*, *", "$order": ":id", "$limit": "3", "$offset": str(offset)} for offset in (0, 3, 6)
    ]
    assert {headers["X-App-Token"] for _params, headers in dataset.requests} == {"test-token"}


def test_a_full_last_page_is_followed_by_one_empty_request(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS[:6])

    pages = read(dataset.url, page_size=3)

    assert [len(p.records) for p in pages] == [3, 3]
    assert [params["$offset"] for params, _headers in dataset.requests] == ["0", "3", "6"]


def test_app_token_comes_from_settings_and_where_is_passed(fake_socrata_dataset, settings):
    settings.SOCRATA_APP_TOKEN = "from-settings"
    dataset = fake_socrata_dataset(ROWS)

    read(dataset.url, where="caseinfostatus = 'Open'")

    [(params, headers)] = dataset.requests
    assert params["$where"] == "caseinfostatus = 'Open'"
    assert headers["X-App-Token"] == "from-settings"


def test_no_app_token_header_when_none_is_configured(fake_socrata_dataset, settings):
    settings.SOCRATA_APP_TOKEN = ""
    dataset = fake_socrata_dataset(ROWS)

    read(dataset.url)

    assert "X-App-Token" not in dataset.requests[0][1]


def test_records_keep_the_row_and_take_the_point(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS)

    records = {r.external_id: r for r in read(dataset.url)[0].records}

    first = records["row-a2vb~x3qe"]
    assert first.attributes["apno"] == "CEB2024-01200"
    assert first.attributes["case_type"] == "Lot Maintenance"
    assert first.attributes["parcel_id"] == "292228885002050"
    assert (first.geometry.srid, first.geometry.coords) == (4326, (-81.41, 28.52))
    assert records["row-d9tz~k4vu"].geometry.coords == (-81.3912, 28.5521)  # legacy location column
    assert records["row-g6jr~y8gf"].geometry is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"the_geom": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [0, 2], [2, 2], [2, 0], [0, 0]]]]}}, (1, 1)),
        ({"latitude": "28.5", "longitude": "-81.4"}, (-81.4, 28.5)),
        ({"lat": "28.5", "lng": "-81.4"}, (-81.4, 28.5)),
        ({"latitude": "", "longitude": ""}, None),
        ({"location": {"type": "Point", "coordinates": "garbage"}}, None),
        ({}, None),
    ],
)
def test_socrata_point(row, expected):
    point = socrata_point(row)

    assert (point.coords if point else None) == expected


def test_a_failing_page_is_an_error_page_and_paging_goes_on(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS, fail_pages={2: 500})

    pages = read(dataset.url, page_size=3)

    assert [(p.number, len(p.records)) for p in pages] == [(1, 3), (2, 0), (3, 1)]
    assert pages[1].error == f"records 3-5: HTTP 500 from GET {dataset.url}: Internal error"  # the server's words
    assert sum(1 for params, _headers in dataset.requests if params["$offset"] == "3") == RETRY_ATTEMPTS


def test_a_4xx_is_not_retried_and_paging_stops_after_three_failed_pages(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS, fail_pages=dict.fromkeys(range(1, 10), 403))

    pages = read(dataset.url, page_size=2)

    assert [p.error for p in pages] == [
        f"records {start}-{start + 1}: HTTP 403 from GET {dataset.url}: Internal error" for start in (0, 2, 4)
    ]
    assert len(dataset.requests) == 3


def test_an_answer_that_is_not_a_list_is_an_error_page(httpserver):
    httpserver.expect_request("/resource/bad.json").respond_with_json({"error": True, "message": "no such column"})

    pages = read(httpserver.url_for("/resource/bad.json"))

    assert pages[0].error.startswith("records 0-999: Socrata answered {'error': True")
