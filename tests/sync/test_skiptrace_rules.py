import datetime
from decimal import Decimal

import pytest

from sync.skiptrace.base import (
    CallCost,
    Email,
    Person,
    Phone,
    PhoneType,
    TraceAddress,
    TraceRequest,
    TraceResult,
    TraceStatus,
    call_cost,
    chunked,
    phone_digits,
)
from sync.skiptrace.window import contacts_to_add, owners_due_for_trace

NOW = datetime.datetime(2025, 6, 1, 12, tzinfo=datetime.UTC)
WINDOW = datetime.timedelta(days=90)


def test_owners_never_traced_or_traced_a_window_ago_are_due_the_rest_say_from_when():
    decision = owners_due_for_trace(
        last_traced={
            "never": None,
            "recent": NOW - datetime.timedelta(days=10),
            "exactly": NOW - WINDOW,
            "long_ago": NOW - datetime.timedelta(days=400),
        },
        now=NOW,
        window=WINDOW,
    )
    assert decision.due == ("never", "exactly", "long_ago")
    assert decision.not_due == (("recent", datetime.datetime(2025, 8, 20, 12, tzinfo=datetime.UTC)),)


def test_a_zero_window_makes_everyone_due_and_a_negative_one_is_refused():
    assert owners_due_for_trace(last_traced={1: NOW}, now=NOW, window=datetime.timedelta(0)).due == (1,)
    with pytest.raises(ValueError, match="cannot be negative"):
        owners_due_for_trace(last_traced={}, now=NOW, window=datetime.timedelta(days=-1))


def test_a_trace_adds_only_new_contacts_and_never_touches_what_a_broker_entered():
    persons = [
        Person(
            "John A Smith",
            phones=(
                Phone("4075550187", PhoneType.LANDLINE, dnc=True, rank=2),
                Phone("4075550142", PhoneType.MOBILE, dnc=False, rank=1),
            ),
            emails=(Email("JSMITH.ORLANDO@example.com", rank=1), Email("new@example.net", rank=2)),
        ),
        Person("Mary Smith", phones=(Phone("4075550187", rank=1), Phone("6895550163", rank=2), Phone("", rank=3))),
    ]
    phones, emails = contacts_to_add(
        existing_phones=["(407) 555-0142", ""], existing_emails=[" jsmith.orlando@example.com "], persons=persons
    )
    assert [(p.number, p.rank, p.dnc) for p in phones] == [("4075550187", 2, True), ("6895550163", 2, None)]
    assert emails == [Email("new@example.net", rank=2)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "a trace request needs a key"),
        ({"key": "o1", "address": TraceAddress(" ", zip_code="32801")}, "o1: an address needs a street and a ZIP"),
        ({"key": "o1", "address": TraceAddress("1 Main St", city="Orlando")}, "an address needs a street and a ZIP"),
        ({"key": "o1", "apn": "123", "state": "FL"}, "o1: trace by address, or by parcel number with its county"),
        ({"key": "o1"}, "trace by address, or by parcel number"),
    ],
)
def test_trace_requests_say_what_they_lack(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TraceRequest(**kwargs)


def test_valid_trace_requests():
    assert TraceRequest("o1", TraceAddress("1 Main St", city="Orlando", state="FL")).address.city == "Orlando"
    assert TraceRequest("o2", apn="29-22-28-8850-02-050", county="Orange", state="FL").apn == "29-22-28-8850-02-050"


def test_a_call_costs_its_hits_only():
    results = [
        TraceResult("a", TraceStatus.HIT),
        TraceResult("b", TraceStatus.HIT),
        TraceResult("c", TraceStatus.NO_HIT),
        TraceResult("d", TraceStatus.ERROR, message="bad address"),
    ]
    assert call_cost(results, Decimal("0.12")) == CallCost(4, 2, 1, 1, Decimal("0.24"))


def test_requests_are_chunked_to_the_providers_batch_size():
    assert [len(c) for c in chunked(range(250), 100)] == [100, 100, 50]
    assert list(chunked([], 100)) == []


@pytest.mark.parametrize(
    ("number", "digits"),
    [("(407) 555-0142", "4075550142"), ("+1 407 555 0142", "4075550142"), ("555-0142", "5550142"), ("", "")],
)
def test_phone_numbers_compare_as_digits(number, digits):
    assert phone_digits(number) == digits
