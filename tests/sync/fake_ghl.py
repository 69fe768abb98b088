"""A fake GoHighLevel at the HTTP layer (respx).

Every request is checked against the official OpenAPI files in tests/fixtures/gohighlevel/apps
(Version header enum, bearer token, request body schema); answers follow the documented response schemas.
"""

import itertools
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

import httpx
from jsonschema import Draft7Validator

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gohighlevel"
BASE_URL = "https://ghl.test"
LOCATION_ID = "ve9EPM428h8vShlRW1KT"

SPEC_FOR_PREFIX = {
    "/contacts": "contacts",
    "/opportunities": "opportunities",
    "/conversations": "conversations",
    "/locations": "locations",
}


@cache
def spec(name: str) -> dict:
    return json.loads((FIXTURES / "apps" / f"{name}.json").read_text())


def operation(method: str, path: str) -> dict:
    """The OpenAPI operation a concrete request path matches (path templates become regexes)."""
    name = next(v for k, v in SPEC_FOR_PREFIX.items() if path.startswith(k))
    document = spec(name)
    for template, ops in document["paths"].items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template.rstrip("/")) + "/?$"
        if re.match(pattern, path) and method.lower() in ops:
            # Literal paths win over templated ones (e.g. /contacts/search vs /contacts/{contactId}).
            if "{" in template and any(
                re.match("^" + t.rstrip("/") + "/?$", path) and method.lower() in o
                for t, o in document["paths"].items()
                if "{" not in t
            ):
                continue
            return {"spec": name, **ops[method.lower()]}
    raise AssertionError(f"{method} {path} is not in the GoHighLevel spec {name}.json")


def contract_violations(request: httpx.Request) -> list[str]:
    op = operation(request.method, request.url.path)
    problems = []
    query = parse_qs(request.url.query.decode())
    for param in op.get("parameters", []):
        version = request.headers.get("Version")
        if param["in"] == "header" and param["name"] == "Version" and version not in param["schema"]["enum"]:
            problems.append(f"Version {version!r} not in {param['schema']['enum']}")
        if param["in"] == "query" and param.get("required") and param["name"] not in query:
            problems.append(f"missing query parameter {param['name']}")
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        problems.append("no bearer token")
    body = op.get("requestBody")
    if body:
        schema_ref = body["content"]["application/json"]["schema"]
        try:
            payload = json.loads(request.content)
        except ValueError:
            return [*problems, "body is not JSON"]
        validator = Draft7Validator({**schema_ref, "components": spec(op["spec"])["components"]})
        problems += [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(payload)]
    return problems


def contact_json(contact_id: str, **fields) -> dict:
    """A contact in the GetContectByIdSchema shape."""
    return {
        "id": contact_id,
        "locationId": LOCATION_ID,
        "firstName": fields.pop("firstName", ""),
        "lastName": fields.pop("lastName", ""),
        "email": fields.pop("email", ""),
        "phone": fields.pop("phone", ""),
        "dnd": fields.pop("dnd", False),
        "tags": fields.pop("tags", []),
        "customFields": fields.pop("customFields", []),
        "dateAdded": "2026-01-05T10:00:00.000Z",
        "dateUpdated": fields.pop("dateUpdated", "2026-01-05T10:00:00.000Z"),
        **fields,
    }


CUSTOM_FIELDS = [
    {"id": f"cf{n:018d}", "name": key.split(".")[1], "fieldKey": key, "dataType": "TEXT", "model": "contact"}
    for n, key in enumerate(
        [
            "contact.dealfinder_score",
            "contact.dealfinder_tier",
            "contact.dealfinder_arv",
            "contact.dealfinder_mao",
            "contact.dealfinder_parcel",
            "contact.buy_box_min_price",
            "contact.buy_box_max_price",
            "contact.buy_box_min_beds",
            "contact.buy_box_property_types",
            "contact.buy_box_zips",
        ]
    )
]
FIELD_ID = {f["fieldKey"]: f["id"] for f in CUSTOM_FIELDS}


class FakeGHL:
    """In-memory contacts and opportunities behind the real paths; `calls` records (method, path, body)."""

    def __init__(self, router):
        self.contacts: dict[str, dict] = {}
        self.opportunities: dict[str, dict] = {}
        self.calls: list[tuple[str, str, dict | None]] = []
        self.violations: list[str] = []
        self.fail_next: list[httpx.Response] = []  # answered first, in order
        self.on_request = None  # called with each request before it is answered (e.g. to hold it)
        self._ids = itertools.count(1)
        router.route(host="ghl.test").mock(side_effect=self.handle)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):017d}"

    def paths(self, method: str | None = None) -> list[str]:
        return [f"{m} {p}" for m, p, _ in self.calls if method in (None, m)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.on_request is not None:
            self.on_request(request)
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, body))
        self.violations += [f"{request.method} {request.url.path}: {v}" for v in contract_violations(request)]
        if self.fail_next:
            return self.fail_next.pop(0)
        method, path = request.method, request.url.path
        headers = {
            "X-RateLimit-Remaining": "99",
            "X-RateLimit-Max": "100",
            "X-RateLimit-Interval-Milliseconds": "10000",
        }
        if (method, path) == ("POST", "/contacts/upsert"):
            contact_id = self.new_id("ct")
            self.contacts[contact_id] = contact_json(contact_id, name=body.get("name", ""))
            return httpx.Response(
                200, json={"new": True, "contact": self.contacts[contact_id], "traceId": "t1"}, headers=headers
            )
        if (method, path) == ("POST", "/contacts/search"):
            tag = body["filters"][0]["value"]
            found = [c for c in self.contacts.values() if tag in c["tags"]]
            start = (body["page"] - 1) * body["pageLimit"]
            page = found[start : start + body["pageLimit"]]
            return httpx.Response(200, json={"contacts": page, "total": len(found)}, headers=headers)
        if match := re.fullmatch(r"/contacts/([^/]+)/tags", path):
            contact = self.contacts[match[1]]
            if method == "DELETE":
                contact["tags"] = sorted(set(contact["tags"]) - set(body["tags"]))
                return httpx.Response(200, json={"tags": contact["tags"]}, headers=headers)
            contact["tags"] = sorted(set(contact["tags"]) | set(body["tags"]))
            return httpx.Response(201, json={"tags": contact["tags"]}, headers=headers)
        if re.fullmatch(r"/contacts/[^/]+/workflow/[^/]+", path):
            return httpx.Response(200, json={"succeded": True}, headers=headers)
        if match := re.fullmatch(r"/contacts/([^/]+)/tasks", path):
            task = {"id": self.new_id("tk"), "contactId": match[1], **body}
            return httpx.Response(201, json={"task": task}, headers=headers)
        if match := re.fullmatch(r"/contacts/([^/]+)", path):
            self.contacts[match[1]].update({"name": body.get("name", "")})
            return httpx.Response(200, json={"succeded": True, "contact": self.contacts[match[1]]}, headers=headers)
        if re.fullmatch(r"/locations/[^/]+/customFields", path):
            return httpx.Response(200, json={"customFields": CUSTOM_FIELDS}, headers=headers)
        if (method, path) == ("POST", "/opportunities/"):
            opportunity = {"id": self.new_id("op"), **body, "updatedAt": "2026-01-05T10:00:00.000Z"}
            self.opportunities[opportunity["id"]] = opportunity
            return httpx.Response(201, json={"opportunity": opportunity}, headers=headers)
        if match := re.fullmatch(r"/opportunities/([^/]+)", path):
            self.opportunities[match[1]].update(body)
            return httpx.Response(200, json={"opportunity": self.opportunities[match[1]]}, headers=headers)
        if (method, path) == ("POST", "/conversations/messages"):
            answer = {"conversationId": self.new_id("cv"), "messageId": self.new_id("ms"), "status": "pending"}
            return httpx.Response(200, json=answer, headers=headers)
        raise AssertionError(f"unexpected {method} {path}")
