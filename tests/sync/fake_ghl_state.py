"""A stateful fake of GoHighLevel at the HTTP layer (respx), for reconciliation and pacing tests.

Like tests/sync/fake_ghl.py (whose contract checks it reuses), every request is checked against the official
OpenAPI files; unlike it, the fake keeps a location's contacts and opportunities the way GoHighLevel does:

- every write stamps `dateUpdated` (contacts) / `updatedAt` (opportunities) from the fake's clock, and the test
  can change or delete records "in GoHighLevel" without any webhook (`edit_contact`, `delete_contact`, ...);
- `POST /contacts/search` (no schema in the contract; modelled on GoHighLevel's search documentation): `filters`
  with eq / not_eq / contains / not_contains / exists / not_exists / range ({gt, gte, lt, lte} on dates as ISO
  strings or epoch ms), nested `{"group": "AND"|"OR", "filters": [...]}`, `sort` [{field, direction}], paging by
  `page` + `pageLimit` (at most 500 a page, 10,000 records in all) or by the `searchAfter` cursor every contact in
  an answer carries ([sort value, id]); the answer is {contacts, total};
- `GET /opportunities/search` with the contract's parameters only (an unknown one is a contract violation):
  location_id, pipeline_id, pipeline_stage_id, contact_id, status, id, q, order (added_asc / added_desc), date and
  endDate (mm-dd-yyyy; the contract says only "Start date" / "End date": the fake reads them as the creation date,
  so there is no "updated since" filter and a reconcile must page and compare `updatedAt` itself), page + limit
  (at most 100) or startAfter + startAfterId; the answer's meta has total, currentPage, nextPage, prevPage,
  startAfter, startAfterId, nextPageUrl;
- upserts follow the location's duplicate rules (`duplicate_fields`, in priority order): an upsert matching an
  existing contact answers that contact with new=false; when the first field matches one contact and the second
  field belongs to another, the second is ignored (the contract's own description), so a phone is dropped; an
  email sent for a contact matched by phone replaces the email it had (the old one is lost); fields the DTO does
  not know are silently dropped (recorded in `dropped`), answered 200;
- a deleted contact (and its opportunities, deleted with it) answers 400 "Contact not found" on reads and
  updates of the contact and 404 on its sub-resources (tags, tasks, workflows), leaves every search, and an upsert
  with its email or phone creates a new contact;
- rate limits: 100 requests per 10-second interval and a daily budget (both settable), the X-RateLimit-* headers
  counting down on every answer, and 429 with Retry-After once a budget is spent.

How reconcile tests use it: build the client on the fake's base URL, push, then change a contact with
`edit_contact(id, phone=...)` (no webhook), advance the clock, run the reconcile service and assert the local record
and the sync log; `drop_field` / `dropped` show what GoHighLevel discarded, `calls` and `violations` what was asked.
Share the clock with `sync.pacing.GHLPacer` to show pacing keeps the fake from ever answering 429.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode

import httpx

from tests.sync.fake_ghl import BASE_URL, CUSTOM_FIELDS, LOCATION_ID, contract_violations, operation, spec

START = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.UTC).timestamp()
PAGE_LIMIT_MAX = 500
PAGED_RECORDS_MAX = 10_000
OPPORTUNITY_LIMIT_MAX = 100


class ManualClock:
    """Epoch seconds that move only when told (tests share it with the pacer)."""

    def __init__(self, now: float = START):
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def iso(epoch: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(value) -> int | None:
    """ISO-8601 text or epoch milliseconds -> epoch milliseconds."""
    if isinstance(value, bool) or value in (None, ""):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _known_fields(schema_name: str, name: str = "contacts") -> frozenset[str]:
    return frozenset(spec(name)["components"]["schemas"][schema_name]["properties"])


def _digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _error(status: int, message, headers: dict) -> httpx.Response:
    body = {"statusCode": status, "message": message}
    if status == 422:
        body["error"] = "Unprocessable Entity"
    return httpx.Response(status, json=body, headers=headers)


class FakeGHLState:
    """One GoHighLevel location in memory. `calls` records (method, path, query, body); `violations` contract
    problems; `messages` SMS sent; `dropped` the fields each upsert or update discarded."""

    def __init__(
        self,
        router,
        *,
        clock: Callable[[], float] | None = None,
        duplicate_fields: tuple[str, ...] = ("email", "phone"),
        interval_max: int = 100,
        interval_seconds: float = 10.0,
        daily_limit: int = 200_000,
    ):
        self.clock = clock or ManualClock()
        self.duplicate_fields = duplicate_fields
        self.contacts: dict[str, dict] = {}
        self.opportunities: dict[str, dict] = {}
        self.deleted_contacts: set[str] = set()
        self.deleted_opportunities: set[str] = set()
        self.pipelines = [
            {
                "id": "VDm7RPYC2GLUvdpKmBfC",
                "name": "Acquisitions",
                "stages": [{"id": "7915dedc-8f18-44d5-8bc3-77c04e994a10", "name": "New lead"}],
            }
        ]
        self.calls: list[tuple[str, str, dict, dict | None]] = []
        self.violations: list[str] = []
        self.messages: list[dict] = []
        self.dropped: list[list[str]] = []
        self.discarded_fields: set[str] = set()  # known fields this location keeps no value of (`drop_field`)
        self.interval_max = interval_max
        self.interval_seconds = interval_seconds
        self.daily_limit = daily_limit
        self.daily_used = 0
        self.window_start: float | None = None
        self.window_count = 0
        self.rate_limited = 0  # 429s answered
        self._ids = itertools.count(1)
        router.route(host="ghl.test").mock(side_effect=self.handle)

    # --- what happens inside GoHighLevel (no webhook) -------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):017d}"

    def add_contact(self, **fields) -> dict:
        now = iso(self.clock())
        contact_id = self.new_id("ct")
        contact = {
            "id": contact_id,
            "locationId": LOCATION_ID,
            "firstName": "",
            "lastName": "",
            "email": "",
            "phone": "",
            "dnd": False,
            "tags": [],
            "customFields": [],
            "additionalEmails": [],
            **fields,
            "dateAdded": now,
            "dateUpdated": now,
        }
        self.contacts[contact_id] = contact
        return contact

    def edit_contact(self, contact_id: str, **fields) -> dict:
        contact = self.contacts[contact_id]
        contact.update(fields)
        contact["dateUpdated"] = iso(self.clock())
        return contact

    def delete_contact(self, contact_id: str) -> None:
        self.deleted_contacts.add(contact_id)
        for opportunity in self.opportunities.values():
            if opportunity["contactId"] == contact_id:
                self.deleted_opportunities.add(opportunity["id"])

    def add_opportunity(self, contact_id: str, **fields) -> dict:
        now = iso(self.clock())
        opportunity = {
            "id": self.new_id("op"),
            "name": "",
            "monetaryValue": 0,
            "pipelineId": self.pipelines[0]["id"],
            "pipelineStageId": self.pipelines[0]["stages"][0]["id"],
            "status": "open",
            "source": "",
            "locationId": LOCATION_ID,
            **fields,
            "contactId": contact_id,
            "createdAt": now,
            "updatedAt": now,
            "lastStatusChangeAt": now,
            "lastStageChangeAt": now,
        }
        self.opportunities[opportunity["id"]] = opportunity
        return opportunity

    def edit_opportunity(self, opportunity_id: str, **fields) -> dict:
        opportunity = self.opportunities[opportunity_id]
        now = iso(self.clock())
        if "status" in fields and fields["status"] != opportunity["status"]:
            opportunity["lastStatusChangeAt"] = now
        if "pipelineStageId" in fields and fields["pipelineStageId"] != opportunity["pipelineStageId"]:
            opportunity["lastStageChangeAt"] = now
        opportunity.update(fields)
        opportunity["updatedAt"] = now
        return opportunity

    def delete_opportunity(self, opportunity_id: str) -> None:
        self.deleted_opportunities.add(opportunity_id)

    def drop_field(self, name: str) -> None:
        """From now on, writes of this contact field are answered 200 and not kept (as GoHighLevel does with a
        phone that belongs to another contact, or a field its DTO does not know)."""
        self.discarded_fields.add(name)

    def live_contacts(self) -> list[dict]:
        return [c for i, c in self.contacts.items() if i not in self.deleted_contacts]

    def live_opportunities(self) -> list[dict]:
        return [
            o
            for i, o in self.opportunities.items()
            if i not in self.deleted_opportunities and o["contactId"] not in self.deleted_contacts
        ]

    def paths(self, method: str | None = None) -> list[str]:
        return [f"{m} {p}" for m, p, _, _ in self.calls if method in (None, m)]

    # --- the HTTP side ----------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        query = {k: v[-1] for k, v in parse_qs(request.url.query.decode()).items()}
        method, path = request.method, request.url.path
        self.calls.append((method, path, query, body))
        self.violations += [f"{method} {path}: {v}" for v in contract_violations(request)]
        self.violations += [f"{method} {path}: {v}" for v in self._unknown_query(method, path, query)]
        limited = self._count_request()
        if limited is not None:
            return limited
        headers = self._limit_headers()
        try:
            return self._route(method, path, query, body, headers)
        except _Answer as answer:
            return _error(answer.status, answer.message, headers)

    def _unknown_query(self, method: str, path: str, query: dict) -> list[str]:
        known = {p["name"] for p in operation(method, path).get("parameters", []) if p["in"] == "query"}
        return [f"query parameter {name!r} is not in the contract" for name in query if name not in known]

    def _count_request(self) -> httpx.Response | None:
        now = self.clock()
        if self.window_start is None or now >= self.window_start + self.interval_seconds:
            self.window_start, self.window_count = now, 0
        if self.daily_used >= self.daily_limit:
            self.rate_limited += 1
            midnight = (math.floor(now / 86400) + 1) * 86400
            return self._too_many(math.ceil(midnight - now))
        if self.window_count >= self.interval_max:
            self.rate_limited += 1
            return self._too_many(max(1, math.ceil(self.window_start + self.interval_seconds - now)))
        self.window_count += 1
        self.daily_used += 1
        return None

    def _too_many(self, retry_after: int) -> httpx.Response:
        headers = self._limit_headers() | {"Retry-After": str(retry_after)}
        return httpx.Response(429, json={"statusCode": 429, "message": "Too Many Requests"}, headers=headers)

    def _limit_headers(self) -> dict:
        return {
            "X-RateLimit-Max": str(self.interval_max),
            "X-RateLimit-Remaining": str(self.interval_max - self.window_count),
            "X-RateLimit-Interval-Milliseconds": str(int(self.interval_seconds * 1000)),
            "X-RateLimit-Limit-Daily": str(self.daily_limit),
            "X-RateLimit-Daily-Remaining": str(self.daily_limit - self.daily_used),
        }

    def _route(self, method, path, query, body, headers) -> httpx.Response:
        ok = lambda data, status=200: httpx.Response(status, json=data, headers=headers)  # noqa: E731
        if (method, path) == ("POST", "/contacts/upsert"):
            contact, new = self._upsert(body)
            return ok({"new": new, "contact": contact, "traceId": self.new_id("tr")})
        if (method, path) == ("POST", "/contacts/search"):
            return ok(self._search_contacts(body))
        if match := re.fullmatch(r"/contacts/([^/]+)/tags", path):
            contact = self._contact(match[1], missing=404)
            tags = set(contact["tags"])
            tags = tags - set(body["tags"]) if method == "DELETE" else tags | set(body["tags"])
            self.edit_contact(contact["id"], tags=sorted(tags))
            return ok({"tags": contact["tags"]}, 200 if method == "DELETE" else 201)
        if re.fullmatch(r"/contacts/([^/]+)/workflow/[^/]+", path):
            self._contact(path.split("/")[2], missing=404)
            return ok({"succeded": True})
        if match := re.fullmatch(r"/contacts/([^/]+)/tasks", path):
            self._contact(match[1], missing=404)
            return ok({"task": {"id": self.new_id("tk"), "contactId": match[1], **body}}, 201)
        if match := re.fullmatch(r"/contacts/([^/]+)", path):
            contact = self._contact(match[1], missing=400)
            if method == "GET":
                return ok({"contact": contact})
            if method == "DELETE":
                self.delete_contact(contact["id"])
                return ok({"succeded": True})
            self._apply(contact, body, _known_fields("UpdateContactDto"))
            return ok({"succeded": True, "contact": contact})
        if re.fullmatch(r"/locations/[^/]+/customFields", path):
            return ok({"customFields": CUSTOM_FIELDS})
        if (method, path) == ("GET", "/opportunities/pipelines"):
            return ok({"pipelines": self.pipelines})
        if (method, path) == ("GET", "/opportunities/search"):
            return ok(self._search_opportunities(query))
        if (method, path) == ("POST", "/opportunities/"):
            self._contact(body.get("contactId", ""), missing=400)
            fields = {k: v for k, v in body.items() if k in _known_fields("CreateDto", "opportunities")}
            return ok({"opportunity": self.add_opportunity(fields.pop("contactId"), **fields)}, 201)
        if match := re.fullmatch(r"/opportunities/([^/]+)", path):
            opportunity = self._opportunity(match[1])
            if method == "GET":
                return ok({"opportunity": opportunity})
            if method == "DELETE":
                self.delete_opportunity(opportunity["id"])
                return ok({"succeded": True})
            return ok({"opportunity": self.edit_opportunity(opportunity["id"], **body)})
        if (method, path) == ("POST", "/conversations/messages"):
            self._contact(body["contactId"], missing=400)
            message = {"conversationId": self.new_id("cv"), "messageId": self.new_id("ms"), "status": "pending"}
            self.messages.append({**body, **message})
            return ok(message)
        raise AssertionError(f"unexpected {method} {path}")

    def _contact(self, contact_id: str, *, missing: int) -> dict:
        if contact_id not in self.contacts or contact_id in self.deleted_contacts:
            raise _Answer(missing, "Contact not found")
        return self.contacts[contact_id]

    def _opportunity(self, opportunity_id: str) -> dict:
        opportunity = self.opportunities.get(opportunity_id)
        if opportunity is None or opportunity not in self.live_opportunities():
            raise _Answer(404, "Opportunity not found")
        return opportunity

    # --- contacts ---------------------------------------------------------------------------------------

    def _upsert(self, body: dict) -> tuple[dict, bool]:
        known = _known_fields("UpsertContactDto")
        values = {"email": (body.get("email") or "").lower(), "phone": _digits(body.get("phone") or "")}
        matched, matched_on = None, None
        for field in self.duplicate_fields:
            if values.get(field):
                matched = next((c for c in self.live_contacts() if self._same(c, field, values[field])), None)
                if matched is not None:
                    matched_on = field
                    break
        ignored = set()
        for field in self.duplicate_fields:
            if matched is None or field == matched_on or not values.get(field):
                continue
            owner = next((c for c in self.live_contacts() if self._same(c, field, values[field])), None)
            if owner is not None and owner is not matched:
                ignored.add(field)  # belongs to another contact: ignored to prevent a duplicate
        contact = matched or self.add_contact()
        self._apply(contact, {k: v for k, v in body.items() if k not in ignored}, known)
        return contact, matched is None

    @staticmethod
    def _same(contact: dict, field: str, value: str) -> bool:
        if field == "phone":
            return _digits(contact.get("phone", "")) == value
        return (contact.get(field) or "").lower() == value

    def _apply(self, contact: dict, body: dict, known: frozenset[str]) -> None:
        self.dropped.append(sorted(k for k in body if k not in known or k in self.discarded_fields))
        skip = {"locationId", "createNewIfDuplicateAllowed", *self.discarded_fields}
        fields = {k: v for k, v in body.items() if k in known and k not in skip}
        if "customFields" in fields:
            values = {f["id"]: f for f in contact.get("customFields", [])}
            for item in fields.pop("customFields") or []:
                value = item.get("field_value", item.get("value"))
                values[item["id"]] = {"id": item["id"], "value": value}
            fields["customFields"] = list(values.values())
        if fields.get("name") and not (fields.get("firstName") or fields.get("lastName")):
            first, _, last = fields["name"].partition(" ")
            fields.setdefault("firstName", first)
            fields.setdefault("lastName", last)
        self.edit_contact(contact["id"], **fields)

    def _search_contacts(self, body: dict) -> dict:
        page_limit = body.get("pageLimit")
        if not isinstance(page_limit, int) or not 1 <= page_limit <= PAGE_LIMIT_MAX:
            raise _Answer(422, [f"pageLimit must be a number from 1 to {PAGE_LIMIT_MAX}"])
        if "page" in body and "searchAfter" in body:
            raise _Answer(400, "use either page or searchAfter, not both")
        found = [c for c in self.live_contacts() if self._matches_all(c, body.get("filters") or [], "AND")]
        sort = (body.get("sort") or [{"field": "dateAdded", "direction": "desc"}])[0]
        reverse = sort.get("direction", "asc") == "desc"
        found.sort(key=lambda c: self._sort_key(c, sort["field"]), reverse=reverse)
        if "searchAfter" in body:
            page = _after(found, tuple(body["searchAfter"]), lambda c: self._sort_key(c, sort["field"]), reverse)
            page = page[:page_limit]
        else:
            number = body.get("page", 1)
            if number * page_limit > PAGED_RECORDS_MAX:
                raise _Answer(
                    400, f"page and pageLimit reach only the first {PAGED_RECORDS_MAX} records: use searchAfter"
                )
            page = found[(number - 1) * page_limit : number * page_limit]
        total = len([c for c in self.live_contacts() if self._matches_all(c, body.get("filters") or [], "AND")])
        answered = [{**c, "searchAfter": list(self._sort_key(c, sort["field"]))} for c in page]
        return {"contacts": answered, "total": total}

    @staticmethod
    def _sort_key(contact: dict, field: str) -> tuple:
        value = contact.get(field)
        if field in ("dateAdded", "dateUpdated"):
            value = epoch_ms(value) or 0
        else:
            value = str(value if value is not None else "").lower()
        return (value, contact["id"])

    def _matches_all(self, contact: dict, filters: list, group: str) -> bool:
        results = (
            self._matches_all(contact, f["filters"], f.get("group", "AND").upper())
            if "filters" in f
            else self._matches(contact, f)
            for f in filters
        )
        return any(results) if group == "OR" else all(results)

    @staticmethod
    def _matches(contact: dict, condition: dict) -> bool:
        field, operator, value = condition["field"], condition["operator"], condition.get("value")
        have = contact.get(field)
        if operator in ("exists", "not_exists"):
            present = have not in (None, "", [])
            return present is (operator == "exists")
        if operator == "range":
            if not isinstance(value, dict) or not value:
                raise _Answer(422, ["range needs a value with gt, gte, lt or lte"])
            mine = epoch_ms(have) if field.startswith("date") else have
            if mine is None:
                return False
            tests = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            for bound, limit in value.items():
                limit = epoch_ms(limit) if field.startswith("date") else limit
                if bound not in tests or limit is None:
                    raise _Answer(422, [f"range bound {bound!r} must be gt, gte, lt or lte with a date"])
                if not tests[bound](mine, limit):
                    return False
            return True
        wanted = [str(v).lower() for v in (value if isinstance(value, list) else [value])]
        if isinstance(have, list):
            values = [str(v).lower() for v in have]
            hit = any(w in values for w in wanted)
        elif operator in ("contains", "not_contains"):
            hit = any(w in str(have or "").lower() for w in wanted)
        else:
            hit = str(have).lower() in wanted
        if operator in ("eq", "contains"):
            return hit
        if operator in ("not_eq", "not_contains"):
            return not hit
        raise _Answer(422, [f"operator {operator!r} is not supported"])

    # --- opportunities ----------------------------------------------------------------------------------

    def _search_opportunities(self, query: dict) -> dict:
        if query.get("location_id") != LOCATION_ID:
            raise _Answer(403, "The token does not have access to this location")
        limit = int(float(query.get("limit", 20)))
        if not 1 <= limit <= OPPORTUNITY_LIMIT_MAX:
            raise _Answer(422, [f"limit must be from 1 to {OPPORTUNITY_LIMIT_MAX}"])
        found = self.live_opportunities()
        filters = {"pipeline_id": "pipelineId", "pipeline_stage_id": "pipelineStageId", "contact_id": "contactId"}
        for name, key in (*filters.items(), ("id", "id")):
            if query.get(name):
                found = [o for o in found if o[key] == query[name]]
        if query.get("status") and query["status"] != "all":
            found = [o for o in found if o["status"] == query["status"]]
        if query.get("q"):
            needle = query["q"].lower()
            found = [
                o
                for o in found
                if needle in o["name"].lower() or needle in (self.contacts[o["contactId"]].get("email") or "").lower()
            ]
        for name, keep in (("date", lambda day, start: day >= start), ("endDate", lambda day, end: day <= end)):
            if query.get(name):
                try:
                    bound = datetime.datetime.strptime(query[name], "%m-%d-%Y").date()
                except ValueError:
                    raise _Answer(422, [f"{name} must be a date as mm-dd-yyyy"]) from None
                found = [o for o in found if keep(_day(o["createdAt"]), bound)]
        order = query.get("order") or "added_desc"
        if order not in ("added_asc", "added_desc"):
            raise _Answer(422, ["order must be added_asc or added_desc"])
        descending = order == "added_desc"
        found.sort(key=lambda o: (epoch_ms(o["createdAt"]), o["id"]), reverse=descending)
        total = len(found)
        page = int(float(query.get("page", 1)))
        if query.get("startAfterId") and query.get("startAfter"):
            cursor = (int(query["startAfter"]), query["startAfterId"])
            found = _after(found, cursor, lambda o: (epoch_ms(o["createdAt"]), o["id"]), descending)
            chunk = found[:limit]
        else:
            chunk = found[(page - 1) * limit : page * limit]
        more = len(found) > (limit if query.get("startAfterId") else page * limit)
        last = chunk[-1] if chunk else None
        meta = {
            "total": total,
            "currentPage": page,
            "nextPage": page + 1 if more else None,
            "prevPage": page - 1 if page > 1 else None,
            "startAfterId": last["id"] if last and more else None,
            "startAfter": epoch_ms(last["createdAt"]) if last and more else None,
            "nextPageUrl": None,
        }
        if more and last:
            next_query = {
                **query,
                "startAfter": meta["startAfter"],
                "startAfterId": meta["startAfterId"],
                "page": page + 1,
            }
            meta["nextPageUrl"] = f"{BASE_URL}/opportunities/search?{urlencode(next_query)}"
        return {"opportunities": chunk, "meta": meta, "aggregations": {}}


def _after(ordered: list[dict], cursor: tuple, key, descending: bool) -> list[dict]:
    """The records after `cursor` in an ordered list (a cursor is the sort key of the last record seen)."""
    return [r for r in ordered if (key(r) < cursor if descending else key(r) > cursor)]


def _day(value: str) -> datetime.date:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).date()


class _Answer(Exception):
    def __init__(self, status: int, message):
        self.status = status
        self.message = message
        super().__init__(f"{status} {message}")
