"""The stateful GoHighLevel fake behaves like GoHighLevel: duplicates, dropped fields, search paging, deletions,
rate limits; and the pacer keeps the real client from ever meeting its 429."""

import httpx
import pytest
import respx
from tenacity import wait_none

from sync.ghl import GHLClient, GHLError
from sync.pacing import DailyBudgetExhausted, GHLPacer, MemoryStore
from tests.sync.fake_ghl import BASE_URL, FIELD_ID, LOCATION_ID
from tests.sync.fake_ghl_state import START, FakeGHLState, ManualClock, iso

HEADERS = {"Authorization": "Bearer pit-test", "Version": "2021-07-28"}


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def ghl(clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock)
        yield fake
    assert fake.violations == []


@pytest.fixture
def http():
    with httpx.Client(base_url=BASE_URL, headers=HEADERS) as client:
        yield client


def client_for(clock, **kwargs) -> GHLClient:
    return GHLClient(
        BASE_URL, "pit-test", LOCATION_ID, timeout=5, retry_wait=wait_none(), clock=clock, sleep=clock.sleep, **kwargs
    )


def upsert(http, **body) -> dict:
    response = http.post("/contacts/upsert", json={"locationId": LOCATION_ID, **body})
    assert response.status_code == 200
    return response.json()


def search(http, **body) -> httpx.Response:
    return http.post("/contacts/search", json={"locationId": LOCATION_ID, "pageLimit": 100, **body})


# --- upserts and GoHighLevel's duplicate rules ------------------------------------------------------


def test_an_upsert_of_the_same_person_answers_the_existing_contact(ghl, http, clock):
    first = upsert(http, firstName="Ann", email="Ann@Example.com")
    clock.advance(60)
    again = upsert(http, lastName="Lee", email="ann@example.com")
    assert (first["new"], again["new"]) == (True, False)
    assert again["contact"]["id"] == first["contact"]["id"]
    assert (again["contact"]["firstName"], again["contact"]["lastName"]) == ("Ann", "Lee")
    assert again["contact"]["dateAdded"] == iso(START)
    assert again["contact"]["dateUpdated"] == iso(START + 60)
    assert len(ghl.contacts) == 1


def test_the_phone_is_dropped_when_the_email_matches_a_contact_and_the_phone_another(ghl, http):
    email_only = upsert(http, email="ann@example.com")["contact"]
    phone_only = upsert(http, phone="+1 407-555-0100")["contact"]
    answer = upsert(http, email="ann@example.com", phone="(407) 555-0100")
    assert (answer["new"], answer["contact"]["id"]) == (False, email_only["id"])
    assert answer["contact"]["phone"] == ""  # dropped, answered 200
    assert ghl.contacts[phone_only["id"]]["email"] == ""


def test_the_priority_of_duplicate_fields_is_the_locations(clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, duplicate_fields=("phone", "email"))
        with httpx.Client(base_url=BASE_URL, headers=HEADERS) as http:
            upsert(http, email="ann@example.com")
            by_phone = upsert(http, phone="4075550100")["contact"]
            answer = upsert(http, email="ann@example.com", phone="4075550100")
    assert answer["contact"]["id"] == by_phone["id"]
    assert answer["contact"]["email"] == ""  # now the email is the field ignored
    assert fake.violations == []


def test_a_second_email_wipes_the_first(ghl, http):
    contact = upsert(http, phone="4075550100", email="old@example.com")["contact"]
    answer = upsert(http, phone="4075550100", email="new@example.com")
    assert (answer["new"], answer["contact"]["id"], answer["contact"]["email"]) == (
        False,
        contact["id"],
        "new@example.com",
    )
    found = search(http, filters=[{"field": "email", "operator": "eq", "value": "old@example.com"}]).json()
    assert found == {"contacts": [], "total": 0}


def test_unknown_fields_are_dropped_silently(ghl, http):
    answer = upsert(http, email="ann@example.com", favoriteColor="red", additionalEmails=["ann@work.example"])
    assert "favoriteColor" not in answer["contact"]
    assert answer["contact"]["additionalEmails"] == []
    assert ghl.dropped[-1] == ["additionalEmails", "favoriteColor"]


def test_custom_fields_merge_by_id(ghl, http):
    score, tier = FIELD_ID["contact.dealfinder_score"], FIELD_ID["contact.dealfinder_tier"]
    upsert(http, email="a@example.com", customFields=[{"id": score, "field_value": "80"}, {"id": tier, "value": "A"}])
    answer = upsert(http, email="a@example.com", customFields=[{"id": score, "field_value": "65"}])
    assert answer["contact"]["customFields"] == [{"id": score, "value": "65"}, {"id": tier, "value": "A"}]


def test_the_real_client_upserts_and_reads_back(ghl, clock):
    client = client_for(clock)
    result = client.contact_upsert({"email": "bob@example.com", "phone": "+14075550199", "tags": ["cash-buyer"]})
    assert result.new is True
    again = client.contact_upsert({"email": "BOB@example.com"})
    assert (again.new, again.contact.id) == (False, result.contact.id)
    assert [c.id for c in client.contact_search_all(tag="cash-buyer")] == [result.contact.id]


# --- search -----------------------------------------------------------------------------------------


@pytest.fixture
def population(ghl, clock):
    """Five contacts, one a minute from START, one edited later."""
    made = []
    for n in range(5):
        made.append(ghl.add_contact(email=f"c{n}@example.com", tags=["cash-buyer"] if n % 2 == 0 else ["seller"]))
        clock.advance(60)
    ghl.edit_contact(made[1]["id"], phone="4075550101")
    return made


def ids(response: httpx.Response) -> list[str]:
    return [c["id"] for c in response.json()["contacts"]]


def test_changed_since_a_date_in_update_order(ghl, http, population):
    since = iso(START + 150)
    response = search(
        http,
        filters=[{"field": "dateUpdated", "operator": "range", "value": {"gt": since}}],
        sort=[{"field": "dateUpdated", "direction": "asc"}],
    )
    assert ids(response) == [population[3]["id"], population[4]["id"], population[1]["id"]]
    assert response.json()["total"] == 3


def test_range_bounds_in_epoch_milliseconds(http, population):
    window = {"gte": int((START + 60) * 1000), "lt": int((START + 180) * 1000)}
    response = search(http, filters=[{"field": "dateAdded", "operator": "range", "value": window}])
    assert sorted(ids(response)) == sorted([population[1]["id"], population[2]["id"]])


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"field": "tags", "operator": "contains", "value": "cash-buyer"}], [0, 2, 4]),
        ([{"field": "tags", "operator": "not_contains", "value": "cash-buyer"}], [1, 3]),
        ([{"field": "phone", "operator": "exists"}], [1]),
        ([{"field": "phone", "operator": "not_exists"}], [0, 2, 3, 4]),
        ([{"field": "email", "operator": "not_eq", "value": "c0@example.com"}], [1, 2, 3, 4]),
        (
            [
                {
                    "group": "OR",
                    "filters": [
                        {"field": "email", "operator": "eq", "value": "c0@example.com"},
                        {"field": "email", "operator": "eq", "value": "c3@example.com"},
                    ],
                }
            ],
            [0, 3],
        ),
    ],
)
def test_filters(http, population, filters, expected):
    assert sorted(ids(search(http, filters=filters))) == sorted(population[n]["id"] for n in expected)


def test_search_after_pages_past_everything_exactly_once(ghl, http, clock):
    for n in range(250):
        ghl.add_contact(email=f"p{n}@example.com")
        clock.advance(0.5 if n % 3 else 0)  # equal timestamps too: the id breaks ties
    seen, cursor, pages = [], None, 0
    while True:
        body = {"pageLimit": 100, "sort": [{"field": "dateUpdated", "direction": "asc"}]}
        body |= {"searchAfter": cursor} if cursor else {"page": 1}
        contacts = search(http, **body).json()["contacts"]
        pages += 1
        seen += [c["id"] for c in contacts]
        if len(contacts) < 100:
            break
        cursor = contacts[-1]["searchAfter"]
    assert pages == 3
    assert seen == [c["id"] for c in sorted(ghl.contacts.values(), key=lambda c: (c["dateUpdated"], c["id"]))]


def test_page_numbers(http, population):
    first = search(http, pageLimit=2, page=1, sort=[{"field": "email", "direction": "asc"}])
    third = search(http, pageLimit=2, page=3, sort=[{"field": "email", "direction": "asc"}])
    assert ids(first) == [population[0]["id"], population[1]["id"]]
    assert (ids(third), third.json()["total"]) == ([population[4]["id"]], 5)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"pageLimit": 501}, 422, ["pageLimit must be a number from 1 to 500"]),
        ({"page": 21, "pageLimit": 500}, 400, "page and pageLimit reach only the first 10000 records: use searchAfter"),
        ({"page": 1, "searchAfter": [0, "x"]}, 400, "use either page or searchAfter, not both"),
        (
            {"filters": [{"field": "dateUpdated", "operator": "range", "value": {"after": "2026-01-01"}}]},
            422,
            ["range bound 'after' must be gt, gte, lt or lte with a date"],
        ),
        (
            {"filters": [{"field": "email", "operator": "like", "value": "x"}]},
            422,
            ["operator 'like' is not supported"],
        ),
    ],
)
def test_bad_searches_get_ghl_errors(http, population, body, status, message):
    response = search(http, **body)
    assert response.status_code == status
    assert response.json()["message"] == message


# --- deleted in GoHighLevel -----------------------------------------------------------------------------


def test_a_deleted_contact_is_gone_everywhere(ghl, http, clock):
    contact = upsert(http, email="gone@example.com", tags=["cash-buyer"])["contact"]
    opportunity = ghl.add_opportunity(contact["id"], name="12 Oak St")
    ghl.delete_contact(contact["id"])
    got = http.get(f"/contacts/{contact['id']}")
    assert (got.status_code, got.json()) == (400, {"statusCode": 400, "message": "Contact not found"})
    assert http.put(f"/contacts/{contact['id']}", json={"firstName": "X"}).status_code == 400
    assert http.post(f"/contacts/{contact['id']}/tags", json={"tags": ["x"]}).status_code == 404
    assert search(http).json() == {"contacts": [], "total": 0}
    assert http.get(f"/opportunities/{opportunity['id']}").status_code == 404
    opportunities = http.get("/opportunities/search", params={"location_id": LOCATION_ID}).json()
    assert opportunities["opportunities"] == []
    again = upsert(http, email="gone@example.com")
    assert again["new"] is True and again["contact"]["id"] != contact["id"]


def test_the_real_client_sees_a_deleted_contact_as_a_4xx(ghl, clock):
    client = client_for(clock)
    contact = client.contact_upsert({"email": "gone@example.com"}).contact
    ghl.delete_contact(contact.id)
    with pytest.raises(GHLError) as caught:
        client.contact_add_tags(contact.id, ["x"])
    assert (caught.value.status_code, caught.value.message, caught.value.retryable) == (404, "Contact not found", False)


# --- opportunities --------------------------------------------------------------------------------------


@pytest.fixture
def deals(ghl, clock):
    people = [ghl.add_contact(email=f"o{n}@example.com") for n in range(3)]
    made = []
    for n in range(7):
        made.append(ghl.add_opportunity(people[n % 3]["id"], name=f"{n} Main St", status="won" if n == 5 else "open"))
        clock.advance(86_400)  # one a day from 2026-01-05
    return people, made


def opp_search(http, **params) -> httpx.Response:
    return http.get("/opportunities/search", params={"location_id": LOCATION_ID, **params})


def test_opportunities_page_by_number_and_cursor(http, deals):
    _, made = deals
    first = opp_search(http, limit=3, order="added_asc").json()
    assert [o["id"] for o in first["opportunities"]] == [o["id"] for o in made[:3]]
    meta = first["meta"]
    assert (meta["total"], meta["currentPage"], meta["nextPage"], meta["prevPage"]) == (7, 1, 2, None)
    assert (meta["startAfterId"], meta["startAfter"]) == (made[2]["id"], int((START + 2 * 86_400) * 1000))
    assert meta["nextPageUrl"].startswith(f"{BASE_URL}/opportunities/search?")
    seen = [o["id"] for o in first["opportunities"]]
    while meta["nextPage"]:
        answer = opp_search(
            http, limit=3, order="added_asc", startAfter=meta["startAfter"], startAfterId=meta["startAfterId"]
        ).json()
        seen += [o["id"] for o in answer["opportunities"]]
        meta = answer["meta"]
    assert seen == [o["id"] for o in made]
    newest_first = opp_search(http, limit=2, page=2).json()["opportunities"]
    assert [o["id"] for o in newest_first] == [made[4]["id"], made[3]["id"]]


def test_opportunity_filters(ghl, http, deals, clock):
    people, made = deals
    by_contact = opp_search(http, contact_id=people[0]["id"]).json()["opportunities"]
    assert sorted(o["id"] for o in by_contact) == sorted(made[n]["id"] for n in (0, 3, 6))
    assert [o["id"] for o in opp_search(http, status="won").json()["opportunities"]] == [made[5]["id"]]
    assert len(opp_search(http, status="all").json()["opportunities"]) == 7
    window = opp_search(http, date="01-06-2026", endDate="01-07-2026", order="added_asc").json()["opportunities"]
    assert [o["id"] for o in window] == [made[1]["id"], made[2]["id"]]
    assert [o["id"] for o in opp_search(http, q="4 main").json()["opportunities"]] == [made[4]["id"]]


def test_an_edit_in_ghl_moves_updated_at_but_not_the_order(ghl, http, deals, clock):
    _, made = deals
    clock.advance(3600)
    ghl.edit_opportunity(made[0]["id"], pipelineStageId="s2", status="lost")
    oldest = opp_search(http, order="added_asc", limit=1).json()["opportunities"][0]
    assert oldest["updatedAt"] == oldest["lastStageChangeAt"] == oldest["lastStatusChangeAt"] == iso(clock())
    assert oldest["createdAt"] == iso(START)


def test_the_real_client_creates_and_searches_opportunities(ghl, clock):
    client = client_for(clock)
    contact = client.contact_upsert({"email": "x@example.com"}).contact
    created = client.opportunity_create(
        {"pipelineId": "VDm7RPYC2GLUvdpKmBfC", "name": "1 Elm", "status": "open", "contactId": contact.id}
    )
    page = client.opportunity_search(contact_id=contact.id)
    assert [o.id for o in page.opportunities] == [created.id]
    assert page.total == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 101}, ["limit must be from 1 to 100"]),
        ({"date": "2026-01-06"}, ["date must be a date as mm-dd-yyyy"]),
        ({"order": "updated_desc"}, ["order must be added_asc or added_desc"]),
    ],
)
def test_bad_opportunity_searches(http, deals, params, message):
    response = opp_search(http, **params)
    assert (response.status_code, response.json()["message"]) == (422, message)


def test_a_parameter_outside_the_contract_is_a_violation(ghl, http, deals):
    opp_search(http, updatedAfter="2026-01-01")
    assert ghl.violations == ["GET /opportunities/search: query parameter 'updatedAfter' is not in the contract"]
    ghl.violations.clear()


# --- rate limits ----------------------------------------------------------------------------------------


def test_the_interval_counts_down_then_429_with_retry_after(ghl, http, clock):
    remaining = []
    for _ in range(100):
        response = http.get("/opportunities/pipelines", params={"locationId": LOCATION_ID})
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    assert remaining == list(range(99, -1, -1))
    clock.advance(4)
    refused = http.get("/opportunities/pipelines", params={"locationId": LOCATION_ID})
    assert (refused.status_code, refused.headers["Retry-After"], refused.json()["statusCode"]) == (429, "6", 429)
    assert refused.headers["X-RateLimit-Daily-Remaining"] == "199900"
    clock.advance(6)
    fresh = http.get("/opportunities/pipelines", params={"locationId": LOCATION_ID})
    assert (fresh.status_code, fresh.headers["X-RateLimit-Remaining"]) == (200, "99")
    assert ghl.rate_limited == 1


def test_the_daily_budget_runs_out_until_midnight_utc(clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, daily_limit=3)
        with httpx.Client(base_url=BASE_URL, headers=HEADERS) as http:
            answers = [http.get("/opportunities/pipelines", params={"locationId": LOCATION_ID}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Daily-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3].headers["Retry-After"] == str(14 * 3600)  # from 10:00 UTC
    assert fake.violations == []


# --- pacing against the fake (the "slows the client before any 429") ---------------------------------


def test_paced_workers_sharing_a_store_slow_down_and_never_meet_a_429(clock):
    store = MemoryStore()
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, interval_max=10)
        workers = []
        for _ in range(2):
            pacer = GHLPacer(store, location_id=LOCATION_ID, daily_reserve=0, clock=clock, sleep=clock.sleep)
            workers.append(client_for(clock, pacer=pacer))
        for n in range(30):
            workers[n % 2].pipelines()
    assert fake.rate_limited == 0
    assert len(fake.calls) == 30
    assert clock.now - START >= 20  # 30 requests at 8 an interval (2 kept as headroom): past the third interval
    assert fake.violations == []


def test_a_paced_client_stops_at_the_daily_reserve_without_retrying(clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, daily_limit=1005)
        pacer = GHLPacer(MemoryStore(), location_id=LOCATION_ID, daily_reserve=1000, clock=clock, sleep=clock.sleep)
        client = client_for(clock, pacer=pacer)
        done = 0
        with pytest.raises(DailyBudgetExhausted) as caught:
            while True:
                client.pipelines()
                done += 1
    # a request goes while at least 1,000 are left; once fewer are, none is sent
    assert (done, caught.value.remaining, caught.value.reserve) == (6, 999, 1000)
    assert (len(fake.calls), fake.rate_limited) == (6, 0)
