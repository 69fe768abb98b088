import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

PATHS = {
    "/api/v1/leads/",
    "/api/v1/leads/{id}/",
    "/api/v1/leads/{id}/rescore/",
    "/api/v1/leads/{id}/push/",
    "/api/v1/leads/{id}/comps/",
    "/api/v1/leads/geojson/",
    "/api/v1/properties/",
    "/api/v1/properties/{id}/",
    "/api/v1/properties/geojson/",
    "/api/v1/buyers/",
    "/api/v1/buyers/{id}/",
    "/api/v1/matches/",
    "/api/v1/matches/{id}/",
    "/api/v1/data-sources/",
    "/api/v1/data-sources/{id}/",
    "/api/v1/data-sources/{id}/ingest/",
    "/api/v1/data-sources/{id}/health/",
    "/api/v1/ingestion-runs/",
    "/api/v1/ingestion-runs/{id}/",
    "/api/v1/sync-logs/",
    "/api/v1/sync-logs/{id}/",
    *(
        f"/api/v1/reports/{name}/"
        for name in ("hot_deals", "unsynced_properties", "active_buyers", "recent_matches", "sync_statistics")
    ),
    "/api/v1/owners/",
    "/api/v1/owners/{id}/",
    "/api/v1/outcomes/",
    "/api/v1/outcomes/{id}/",
    "/api/v1/kpis/",
    "/api/v1/backtests/",
    "/api/v1/backtests/{id}/",
    "/api/v1/backtests/latest/",
}


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == PATHS
    assert set(schema["paths"]["/api/v1/leads/{id}/"]) == {"get", "patch"}
    leads = schema["paths"]["/api/v1/leads/"]["get"]
    assert {"tier", "in_bbox", "near", "radius_miles", "updated_since", "cursor"} <= {
        p["name"] for p in leads["parameters"]
    }
    [ordering] = [p for p in leads["parameters"] if p["name"] == "ordering"]
    assert sorted(ordering["schema"]["enum"]) == [
        "-score",
        "-stack_count",
        "-updated_at",
        "score",
        "stack_count",
        "updated_at",
    ]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["type"] == "apiKey"
    kpis = schema["paths"]["/api/v1/kpis/"]["get"]
    assert [p["name"] for p in kpis["parameters"]] == ["month", "since"]
    assert set(kpis["responses"]) == {"200", "400"}
    assert set(schema["components"]["schemas"]["Kpis"]["properties"]) == {"by_source", "by_stack"}


def test_schema_endpoint_needs_auth(acq, client):
    assert client.get("/api/schema/").status_code == 401
    response = acq.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/leads/geojson/" in response.content
