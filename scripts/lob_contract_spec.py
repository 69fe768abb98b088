"""Make tests/fixtures/lob/lob-api.yml: Lob's official OpenAPI file trimmed to what DealFinder's client calls.

    .venv/bin/python scripts/lob_contract_spec.py path/to/lob-api-bundled.yml [OUT.yml]

Input: `dist/lob-api-bundled.yml` of the public lob/lob-openapi repository (MIT). Keeps `openapi`, `info` (licence
included), `servers`, `security`, the OPERATIONS below (with their path-level parameters), the `x-webhooks`
(event and tracking-event deliveries) and every component they reference, directly or through other components;
drops code samples and the prose tags. Then mends two defects
of the spec that make Stoplight Prism (`prism mock --errors`) stop checking requests or refuse Lob's own examples:

1. `enum: [..., null]` beside `nullable: true` (`use_type`, `extra_service`): Prism adds the null for `nullable`
   itself, the duplicate makes the schema invalid, and Prism then silently skips validating the whole request body.
   The listed null is dropped; null stays allowed through `nullable`.
2. `signed_link.pattern` demands a literal `'` before the file extension and `version=` without a `?`, so no URL
   Lob returns (nor the spec's examples) matches it. The pattern is dropped; the value stays a string.
"""

import sys
from pathlib import Path

import yaml

OPERATIONS = (
    "post /us_verifications",
    "post /postcards",
    "get /postcards/{psc_id}",
    "delete /postcards/{psc_id}",
    "post /letters",
    "get /letters/{ltr_id}",
    "delete /letters/{ltr_id}",
)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lob" / "lob-api.yml"


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _drop_null_from_nullable_enums(node) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None in node["enum"]:
            node["enum"] = [value for value in node["enum"] if value is not None]
        for value in node.values():
            _drop_null_from_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_from_nullable_enums(value)


def trim(spec: dict, operations=OPERATIONS) -> dict:
    paths: dict = {}
    for operation in operations:
        method, path = operation.split(" ", 1)
        source = spec["paths"][path]
        target = paths.setdefault(path, {k: v for k, v in source.items() if k == "parameters"})
        target[method] = {k: v for k, v in source[method].items() if k != "x-codeSamples"}
    components: dict = {"securitySchemes": spec["components"]["securitySchemes"]}
    pending, seen = set(), set()
    _refs(paths, pending)
    _refs(spec["x-webhooks"], pending)
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = spec["components"][section][name]
        components.setdefault(section, {})[name] = value
        _refs(value, pending)
    for section in components.values():
        for name in sorted(section):
            section[name] = section.pop(name)
    head = {k: spec[k] for k in ("openapi", "info", "servers", "security")}
    trimmed = {**head, "paths": paths, "x-webhooks": spec["x-webhooks"], "components": components}
    _drop_null_from_nullable_enums(trimmed)
    components["schemas"]["signed_link"].pop("pattern", None)
    return trimmed


def main() -> None:
    source, *rest = sys.argv[1:]
    out = Path(rest[0]) if rest else DEFAULT_OUT
    spec = yaml.safe_load(Path(source).read_text())
    out.write_text(yaml.safe_dump(trim(spec), sort_keys=False, allow_unicode=True, width=120))


if __name__ == "__main__":
    main()
