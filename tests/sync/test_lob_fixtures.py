"""The recorded Lob answers follow the official spec's response schemas (so tests stand on what Lob sends)."""

import json
from functools import cache

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.sync.recorded import LOB, lob


def _json_schema(node):
    """OpenAPI 3.0 -> JSON Schema: `nullable` becomes an alternative null, refs point at `definitions`."""
    if isinstance(node, list):
        return [_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {k: _json_schema(v) for k, v in node.items() if k not in ("example", "examples", "description")}
    if "$ref" in node:
        node["$ref"] = node["$ref"].replace("#/components/schemas/", "#/definitions/")
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = [*node["enum"], None]
        return {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def definitions() -> dict:
    spec = yaml.safe_load((LOB / "lob-api.yml").read_text())
    return _json_schema(spec["components"]["schemas"])


def violations(schema_name: str, data) -> list[str]:
    schema = {**definitions()[schema_name], "definitions": definitions()}
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in Draft7Validator(schema).iter_errors(data)]


@pytest.mark.parametrize(
    ("schema_name", "fixture"),
    [
        ("us_verification", "us_verification_deliverable.json"),
        ("us_verification", "us_verification_undeliverable.json"),
        ("us_verification", "us_verification_missing_unit.json"),
        ("postcard", "postcard.json"),
        ("postcard", "postcard_tracked.json"),
        ("letter", "letter.json"),
        ("postcard_deletion", "postcard_deleted.json"),
        ("error", "error_401.json"),
        ("error", "error_404.json"),
        ("error", "error_422_name_too_long.json"),
        ("error", "error_429.json"),
    ],
)
def test_recorded_answers_match_the_spec(schema_name, fixture):
    assert violations(schema_name, lob(fixture)) == []


@pytest.mark.parametrize("path", sorted((LOB / "webhooks").glob("*.json")), ids=lambda p: p.name)
def test_recorded_webhook_events_and_their_pieces_match_the_spec(path):
    event = json.loads(path.read_text())
    assert violations("events", event) == []
    assert violations(event["body"]["object"], event["body"]) == []


def test_the_check_itself_catches_a_wrong_answer():
    broken = {**lob("postcard.json"), "id": "ltr_1", "expected_delivery_date": 20250310}
    assert violations("postcard", broken) == [
        "['expected_delivery_date']: 20250310 is not of type 'string'",
        "['id']: 'ltr_1' does not match '^psc_[a-zA-Z0-9]+$'",
    ]
