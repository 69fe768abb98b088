import datetime

import pytest

from leads.models import Lead
from sync.drip import MAILABLE_STATUSES, Reason, SentTouch, idempotency_key, next_touch, parse_touch_days

DAYS = (0, 21, 42)
JAN_2 = datetime.date(2025, 1, 2)


def decide(sent=(), today=JAN_2, status="new", **kwargs):
    return next_touch(touch_days=DAYS, sent=list(sent), today=today, lead_status=status, **kwargs)


@pytest.mark.parametrize(
    ("value", "days"),
    [("0,21,42", (0, 21, 42)), (" 0 , 30 ; 60 ", (0, 30, 60)), ("0", (0,)), ([0, 14], (0, 14))],
)
def test_touch_days_are_read_from_text_or_numbers(value, days):
    assert parse_touch_days(value) == days


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "a drip needs at least one touch"),
        ("21,42", "the first touch is on day 0"),
        ("0,21,21", "touch days must increase: 0, 21, 21"),
        ("0,42,21", "touch days must increase"),
        ("0,three weeks", "touch days are whole numbers of days separated by commas"),
        ("0,-21", "touch days are whole numbers"),
        (",".join(str(d * 7) for d in range(13)), "at most 12 touches"),
        ("0,731", "the last touch is at most day 730"),
    ],
)
def test_bad_touch_days_are_refused_with_the_reason(value, message):
    with pytest.raises(ValueError, match=message):
        parse_touch_days(value)


def test_a_new_lead_gets_touch_1_today():
    decision = decide()
    assert (decision.touch, decision.reason, decision.due, decision.due_on) == (1, Reason.DUE, True, JAN_2)
    assert decision.message == "touch 1 of 3 is due"


def test_the_next_touch_waits_for_its_gap_after_the_last_one_sent():
    sent = [SentTouch(1, JAN_2)]
    waiting = decide(sent, today=datetime.date(2025, 1, 22))
    due = decide(sent, today=datetime.date(2025, 1, 23))
    late = decide(sent, today=datetime.date(2025, 2, 10))
    assert (waiting.touch, waiting.reason, waiting.due_on) == (2, Reason.WAITING, datetime.date(2025, 1, 23))
    assert waiting.message == "touch 2 of 3 is due on 2025-01-23, 21 days after touch 1 on 2025-01-02"
    assert (due.touch, due.reason, due.message) == (
        2,
        Reason.DUE,
        "touch 2 of 3 is due (21 days after touch 1 on 2025-01-02)",
    )
    assert (late.touch, late.reason, late.due_on) == (2, Reason.DUE, datetime.date(2025, 1, 23))


def test_a_late_touch_does_not_squeeze_the_next_one():
    sent = [SentTouch(1, JAN_2), SentTouch(2, datetime.date(2025, 2, 10))]
    decision = decide(sent, today=datetime.date(2025, 2, 13))  # day 42 of the schedule, 3 days after touch 2
    assert (decision.touch, decision.reason, decision.due_on) == (3, Reason.WAITING, datetime.date(2025, 3, 3))


def test_every_touch_goes_out_once_even_when_the_send_runs_twice_a_day():
    sent, mailed = [], []
    for offset in range(0, 120):
        today = JAN_2 + datetime.timedelta(days=offset)
        for _run in range(2):
            decision = decide(sent, today=today)
            if decision.due:
                sent.append(SentTouch(decision.touch, today))
                mailed.append((decision.touch, today.isoformat()))
    assert mailed == [(1, "2025-01-02"), (2, "2025-01-23"), (3, "2025-02-13")]
    final = decide(sent, today=datetime.date(2025, 6, 1))
    assert (final.touch, final.reason, final.stopped) == (None, Reason.COMPLETE, True)
    assert final.message == "all 3 touches sent (the last on 2025-02-13)"


@pytest.mark.parametrize("status", [s for s in Lead.Status.values if s != Lead.Status.NEW])
def test_the_drip_stops_once_the_lead_is_no_longer_new(status):
    decision = decide([SentTouch(1, JAN_2)], today=datetime.date(2025, 2, 1), status=status)
    assert (decision.touch, decision.reason, decision.stopped) == (None, Reason.LEAD_STATUS, True)


def test_the_mailable_statuses_are_leads_new_only():
    assert {Lead.Status.NEW.value} == MAILABLE_STATUSES


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("contacted", "the lead is contacted: the drip mails new leads only"),
        ("under_contract", "the lead is under contract: the drip mails new leads only"),
        ("dead", "the lead is dead: the drip mails new leads only"),
        ("archived", "the lead is 'archived': the drip mails new leads only"),  # a status added later stops mail
    ],
)
def test_the_stop_says_why_in_words(status, message):
    assert decide(status=status).message == message


def test_opt_outs_and_do_not_contact_stop_before_anything_else():
    opted = decide(status="dead", opted_out=True, do_not_contact=True)
    dnc = decide(do_not_contact=True)
    assert (opted.reason, opted.message, opted.stopped) == (Reason.OPTED_OUT, "the owner opted out of mail", True)
    assert (dnc.reason, dnc.message) == (Reason.DO_NOT_CONTACT, "the owner is on the do-not-contact list")


def test_a_returned_piece_stops_the_drip():
    sent = [SentTouch(1, JAN_2), SentTouch(2, datetime.date(2025, 1, 23), returned=True)]
    decision = decide(sent, today=datetime.date(2025, 3, 1))
    assert (decision.reason, decision.stopped) == (Reason.RETURNED, True)
    assert decision.message == ("touch 2 came back returned to sender: the mailing address does not reach the owner")


def test_a_campaign_with_a_later_start_waits_without_stopping():
    starts = datetime.date(2025, 1, 10)
    before = decide(starts_on=starts)
    on = decide(today=starts, starts_on=starts)
    assert (before.touch, before.reason, before.due_on, before.stopped) == (1, Reason.NOT_STARTED, starts, False)
    assert before.message == "the campaign starts on 2025-01-10"
    assert (on.touch, on.reason) == (1, Reason.DUE)


def test_history_out_of_order_or_repeated_counts_the_highest_touch():
    sent = [SentTouch(2, datetime.date(2025, 1, 23)), SentTouch(1, JAN_2), SentTouch(2, datetime.date(2025, 1, 23))]
    decision = decide(sent, today=datetime.date(2025, 2, 13))
    assert (decision.touch, decision.reason) == (3, Reason.DUE)


def test_fewer_touches_than_already_sent_means_complete():
    decision = next_touch(
        touch_days=(0,), sent=[SentTouch(1, JAN_2), SentTouch(2, JAN_2)], today=JAN_2, lead_status="new"
    )
    assert decision.reason == Reason.COMPLETE


def test_idempotency_keys_are_stable_and_distinct_per_campaign_lead_and_touch():
    key = idempotency_key(campaign_id=3, lead_id=1042, touch=2)
    assert key == "dealfinder-mail-3-1042-2" == idempotency_key(campaign_id="3", lead_id="1042", touch=2)
    others = {
        idempotency_key(campaign_id=3, lead_id=1042, touch=1),
        idempotency_key(campaign_id=3, lead_id=1043, touch=2),
        idempotency_key(campaign_id=4, lead_id=1042, touch=2),
        idempotency_key(campaign_id=3, lead_id=1042, touch=2, namespace="staging"),
    }
    assert key not in others and len(others) == 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"campaign_id": "spring-1", "lead_id": 1, "touch": 1},  # a dash would make keys ambiguous
        {"campaign_id": 1, "lead_id": 1, "touch": 1, "namespace": "deal finder"},
        {"campaign_id": "x" * 250, "lead_id": 1, "touch": 1},
    ],
)
def test_idempotency_keys_refuse_ambiguous_or_overlong_parts(kwargs):
    with pytest.raises(ValueError, match="idempotency key"):
        idempotency_key(**kwargs)
