"""The compliance gate's pure rules: consent merging, replies, quiet hours (with DST edges), property rules."""

import datetime as dt

import pytest

from sync.compliance import (
    STATE_RULES,
    Action,
    Channel,
    Consent,
    ConsentEvent,
    Policy,
    PropertyFacts,
    Reason,
    Source,
    Status,
    decide,
    do_not_contact_events,
    events_from_ghl,
    federal_holidays,
    merge_consents,
    reply_events,
)
from sync.time_zones import locate

UTC = dt.UTC
ORLANDO = locate(zip_code="32801")  # America/New_York, Florida: 08:00-20:00
DALLAS = locate(zip_code="75201")  # America/Chicago, Texas
PHOENIX = locate(zip_code="85004")  # no daylight time
NEW_YORK = locate(zip_code="10001")  # federal hours only


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


NOON_ET = at("2026-03-04 17:00")  # Wednesday 12:00 EST
OPTED_IN = [ConsentEvent(Channel.SMS, True, at("2026-01-01 00:00"), Source.LOCAL, "buyer opted in (web form)")]


def consents(*events):
    return merge_consents([*OPTED_IN, *events])


def sms(where=ORLANDO, now=NOON_ET, *events, **kwargs):
    return decide(action=Action.SMS, consents=consents(*events), where=where, now=now, **kwargs)


# --- consent records ------------------------------------------------------------------------------------


def test_no_events_is_unknown_on_every_channel():
    assert merge_consents([]) == {c: Consent(channel=c, status=Status.UNKNOWN) for c in Channel}


def test_stop_then_start_texts_again_and_start_then_stop_does_not():
    stop = reply_events("STOP", at=at("2026-02-01 10:00")).events
    start = reply_events("start", at=at("2026-02-02 10:00")).events
    assert sms(NEW_YORK, NOON_ET, *stop, *start).allowed is True
    later_stop = reply_events("Stop.", at=at("2026-02-03 10:00")).events
    decision = sms(NEW_YORK, NOON_ET, *stop, *start, *later_stop)
    assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT)
    assert decision.message == "No texts: replied 'Stop.' (since 2026-02-03 10:00 UTC)"


def test_the_order_events_arrive_in_does_not_matter():
    stop = reply_events("STOP", at=at("2026-02-03 10:00")).events
    start = reply_events("UNSTOP", at=at("2026-02-02 10:00")).events
    assert merge_consents([*stop, *start]) == merge_consents([*start, *stop])
    assert merge_consents([*start, *stop])[Channel.SMS].status is Status.REVOKED


def test_a_tie_goes_to_the_refusal():
    when = at("2026-02-01 10:00")
    merged = merge_consents(
        [
            ConsentEvent(Channel.SMS, True, when, Source.LOCAL, "opt-in"),
            ConsentEvent(Channel.SMS, False, when, Source.LOCAL, "opt-out"),
        ]
    )
    assert merged[Channel.SMS].detail == "opt-out"


def test_a_permanent_refusal_beats_a_later_opt_in():
    events = [
        *events_from_ghl({"dndSettings": {"SMS": {"status": "permanent"}}}, seen_at=at("2026-01-01 00:00")),
        *reply_events("START", at=at("2026-02-01 00:00")).events,
    ]
    record = merge_consents(events)[Channel.SMS]
    assert (record.status, record.permanent, record.detail) == (Status.REVOKED, True, "GoHighLevel DND (SMS) permanent")


def test_do_not_contact_list_stops_every_channel_for_good():
    events = [
        *do_not_contact_events(at=at("2026-01-01 00:00"), detail="owner asked by phone"),
        *reply_events("START", at=at("2026-02-01 00:00")).events,
    ]
    merged = merge_consents(events)
    assert {c: merged[c].status for c in Channel} == dict.fromkeys(Channel, Status.REVOKED)
    decision = decide(action=Action.MAIL_PIECE, consents=merged, where=ORLANDO, now=NOON_ET)
    assert (decision.allowed, decision.reason) == (False, Reason.DO_NOT_CONTACT)
    assert decision.message == (
        "No mail: on the do-not-contact list: owner asked by phone (since 2026-01-01 00:00 UTC)"
    )
    assert decision.relied_on == (merged[Channel.MAIL],)


# --- GoHighLevel DND -------------------------------------------------------------------------------------


def test_ghl_dnd_flag_stops_every_ghl_channel_but_not_mail():
    events = events_from_ghl({"dnd": True}, seen_at=NOON_ET)
    assert sorted(e.channel for e in events) == sorted([Channel.SMS, Channel.CALL, Channel.EMAIL, Channel.WORKFLOW])
    assert {e.detail for e in events} == {"GoHighLevel: do not disturb (all channels)"}
    assert merge_consents(events)[Channel.MAIL].status is Status.UNKNOWN


def test_ghl_dnd_settings_per_channel():
    contact = {
        "dnd": False,
        "dndSettings": {
            "SMS": {"status": "active", "message": "replied STOP", "code": "x"},
            "Call": {"status": "inactive"},
            "Email": {"status": "permanent"},
            "WhatsApp": {"status": "active"},
        },
    }
    merged = merge_consents(events_from_ghl(contact, seen_at=NOON_ET))
    assert merged[Channel.SMS].detail == "GoHighLevel DND (SMS) active: replied STOP"
    assert merged[Channel.CALL].status is Status.UNKNOWN  # inactive DND is not consent
    assert (merged[Channel.EMAIL].status, merged[Channel.EMAIL].permanent) == (Status.REVOKED, True)


@pytest.mark.parametrize("contact", [{}, {"dndSettings": None}, {"dndSettings": {"SMS": "active"}}, {"dnd": "yes"}])
def test_odd_ghl_shapes_add_nothing(contact):
    assert events_from_ghl(contact, seen_at=NOON_ET) == []


def test_a_buyer_with_sms_dnd_gets_no_text_but_can_be_mailed():
    events = events_from_ghl({"dndSettings": {"SMS": {"status": "active"}}}, seen_at=at("2026-03-01 00:00"))
    decision = sms(ORLANDO, NOON_ET, *events)
    assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT)
    assert decision.message == "No texts: GoHighLevel DND (SMS) active (since 2026-03-01 00:00 UTC)"
    mail = decide(action=Action.MAIL_PIECE, consents=consents(*events), where=ORLANDO, now=NOON_ET)
    assert mail.allowed is True


# --- replies ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop. ",
        "STOP!!!",
        "UNSUBSCRIBE",
        "Cancel",
        "end",
        "QUIT",
        "Revoke",
        "opt out",
        "OPT-OUT",
        "optout",
        "stop please",
        "Please stop now",
        "Remove me from your list, I am not selling my house ever",
        "this is the wrong number",
        "don't text me",
        "Do not contact me again about my property",
    ],
)
def test_opt_out_replies(text):
    meaning = reply_events(text, at=NOON_ET)
    assert sorted(e.channel for e in meaning.events) == sorted([Channel.SMS, Channel.CALL, Channel.WORKFLOW])
    assert not any(e.granted for e in meaning.events)
    assert meaning.needs_review is False


@pytest.mark.parametrize("text", ["STOPALL", "stop all"])
def test_stopall_stops_every_channel(text):
    meaning = reply_events(text, at=NOON_ET)
    assert sorted(e.channel for e in meaning.events) == sorted(Channel)


@pytest.mark.parametrize("text", ["START", "unstop", "Start."])
def test_opt_in_replies_restore_what_stop_stopped(text):
    meaning = reply_events(text, at=NOON_ET)
    assert sorted(e.channel for e in meaning.events) == sorted([Channel.SMS, Channel.CALL, Channel.WORKFLOW])
    assert all(e.granted for e in meaning.events)


@pytest.mark.parametrize(
    ("text", "review"),
    [
        ("Yes I'm interested, what's your offer?", False),
        ("Let's start talking next week", False),  # START only counts alone
        ("We could end up selling in the spring, call me then maybe", True),
        ("I will cancel my listing if your offer is good enough", True),
        ("", False),
    ],
)
def test_other_replies_change_nothing_and_long_ones_with_a_stop_word_are_flagged(text, review):
    assert reply_events(text, at=NOON_ET).events == ()
    assert reply_events(text, at=NOON_ET).needs_review is review


def test_an_email_unsubscribe_stops_email_only():
    meaning = reply_events("unsubscribe", channel=Channel.EMAIL, at=NOON_ET)
    assert [e.channel for e in meaning.events] == [Channel.EMAIL]


# --- consent required ------------------------------------------------------------------------------------


def test_no_text_without_an_opt_in_on_record():
    decision = decide(action=Action.SMS, consents=merge_consents([]), where=ORLANDO, now=NOON_ET)
    assert (decision.allowed, decision.reason) == (False, Reason.NO_CONSENT)
    assert decision.message == "No texts: no consent on record (a written opt-in or a START reply)"


def test_a_policy_may_drop_the_opt_in_requirement():
    policy = Policy(require_opt_in=frozenset())
    decision = decide(action=Action.SMS, consents=merge_consents([]), where=ORLANDO, now=NOON_ET, policy=policy)
    assert decision.allowed is True


def test_an_allowed_send_names_the_consents_it_relied_on():
    decision = sms()
    assert decision.allowed is True
    assert decision.reason is Reason.ALLOWED
    assert decision.message == "May be sent: texts granted"
    assert decision.relied_on == (consents()[Channel.SMS],)
    assert decision.relied_on[0].detail == "buyer opted in (web form)"
    assert decision.local_times == ("Wed 2026-03-04 12:00 EST (America/New_York)",)


def test_a_workflow_needs_its_own_channel_and_every_channel_it_sends_on():
    email_dnd = events_from_ghl({"dndSettings": {"Email": {"status": "active"}}}, seen_at=at("2026-03-01 00:00"))
    decision = decide(action=Action.WORKFLOW, consents=consents(*email_dnd), where=ORLANDO, now=NOON_ET)
    assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT)
    assert decision.message.startswith("No email: GoHighLevel DND (Email) active")
    sms_only = Policy(workflow_channels=(Channel.SMS,))
    allowed = decide(action=Action.WORKFLOW, consents=consents(*email_dnd), where=ORLANDO, now=NOON_ET, policy=sms_only)
    assert [r.channel for r in allowed.relied_on] == [Channel.WORKFLOW, Channel.SMS]
    assert allowed.message == "May be sent: GoHighLevel workflows unknown, texts granted"


# --- property rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "reason", "message"),
    [
        (PropertyFacts(lead_status="dead"), Reason.LEAD_DEAD, "Not about this property: the lead is dead"),
        (PropertyFacts(lead_status="closed_won"), Reason.LEAD_CLOSED, "Not about this property: the lead is closed"),
        (
            PropertyFacts(auction_date=dt.date(2026, 3, 3)),
            Reason.AUCTION_PASSED,
            "Not about this property: its auction date (2026-03-03) has passed",
        ),
    ],
)
def test_no_message_about_a_dead_closed_or_past_auction_property(facts, reason, message):
    decision = sms(about=facts)
    assert (decision.allowed, decision.reason, decision.message) == (False, reason, message)
    mail = decide(action=Action.MAIL_PIECE, consents=consents(), where=ORLANDO, now=NOON_ET, about=facts)
    assert (mail.allowed, mail.reason) == (False, reason)


@pytest.mark.parametrize("status", ["new", "contacted", "follow_up", "negotiating", "under_contract", ""])
def test_open_leads_and_todays_auction_are_fine(status):
    assert sms(about=PropertyFacts(lead_status=status, auction_date=dt.date(2026, 3, 4))).allowed is True


def test_the_auction_date_is_judged_in_the_propertys_time_zone():
    now = at("2026-03-05 03:30")  # 22:30 in Orlando on the 4th, but already the 5th in UTC
    facts = PropertyFacts(auction_date=dt.date(2026, 3, 4), zones=("America/New_York",))
    decision = decide(action=Action.MAIL_PIECE, consents=consents(), where=ORLANDO, now=now, about=facts)
    assert decision.allowed is True
    later = decide(
        action=Action.MAIL_PIECE,
        consents=consents(),
        where=ORLANDO,
        now=now,
        about=PropertyFacts(auction_date=dt.date(2026, 3, 4), zones=("Pacific/Guam",)),
    )
    assert later.reason is Reason.AUCTION_PASSED


# --- quiet hours -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "allowed"),
    [
        ("2026-03-04 12:59", False),  # 07:59 EST
        ("2026-03-04 13:00", True),  # 08:00 EST
        ("2026-03-05 00:59", True),  # 19:59 EST
        ("2026-03-05 01:00", False),  # 20:00 EST: Florida stops at 8 p.m.
    ],
)
def test_florida_hours_in_the_contacts_zone(when, allowed):
    assert sms(ORLANDO, at(when)).allowed is allowed


def test_new_york_keeps_the_federal_nine_pm():
    assert sms(NEW_YORK, at("2026-03-05 01:30")).allowed is True  # 20:30 EST
    decision = sms(NEW_YORK, at("2026-03-05 02:00"))  # 21:00 EST
    assert (decision.allowed, decision.reason) == (False, Reason.QUIET_HOURS)
    assert decision.message == (
        "Not now: quiet hours, federal (TCPA) allows 08:00-21:00 (Wednesday 21:00 in America/New_York)"
    )
    assert decision.retry_at == at("2026-03-05 13:00")  # 08:00 EST the next morning


def test_spring_forward_uses_daylight_time():
    # Sunday 2026-03-08, clocks go 02:00 EST -> 03:00 EDT: 12:30 UTC is 08:30 EDT (it would be 07:30 in EST)
    assert sms(ORLANDO, at("2026-03-08 12:30")).allowed is True
    assert sms(ORLANDO, at("2026-03-08 11:59")).allowed is False  # 07:59 EDT
    assert sms(ORLANDO, at("2026-03-08 23:59")).allowed is True  # 19:59 EDT
    assert sms(ORLANDO, at("2026-03-09 00:00")).allowed is False  # 20:00 EDT


def test_fall_back_uses_standard_time():
    # Sunday 2026-11-01, clocks go 02:00 EDT -> 01:00 EST: 12:30 UTC is 07:30 EST (it would be 08:30 in EDT)
    assert sms(ORLANDO, at("2026-11-01 12:30")).allowed is False
    assert sms(ORLANDO, at("2026-11-01 13:00")).allowed is True
    decision = sms(ORLANDO, at("2026-11-01 12:30"))
    assert decision.retry_at == at("2026-11-01 13:00")
    assert decision.local_times == ("Sun 2026-11-01 07:30 EST (America/New_York)",)


def test_the_night_before_spring_forward_waits_for_daylight_morning():
    decision = sms(ORLANDO, at("2026-03-08 02:00"))  # Saturday 21:00 EST
    assert decision.retry_at == at("2026-03-08 12:00")  # Sunday 08:00 EDT


def test_arizona_keeps_standard_time_all_year():
    assert sms(PHOENIX, at("2026-07-01 15:00")).allowed is True  # 08:00 MST
    assert sms(PHOENIX, at("2026-07-01 14:59")).allowed is False
    assert sms(PHOENIX, at("2026-01-15 15:00")).allowed is True


def test_texas_sunday_starts_at_noon():
    sunday_morning = at("2026-03-01 16:00")  # Sunday 10:00 CST
    decision = sms(DALLAS, sunday_morning)
    assert decision.message == "Not now: quiet hours, Texas allows 12:00-21:00 (Sunday 10:00 in America/Chicago)"
    assert decision.retry_at == at("2026-03-01 18:00")
    assert sms(DALLAS, at("2026-03-02 15:00")).allowed is True  # Monday 09:00 CST


def test_no_sundays_and_no_holidays_where_the_state_says_so():
    alabama = locate(zip_code="35203")  # Birmingham
    sunday = sms(alabama, at("2026-03-01 18:00"))
    assert (sunday.reason, sunday.message) == (
        Reason.DAY_NOT_ALLOWED,
        "Not now: Alabama allows no messages on Sundays (Sunday 12:00 in America/Chicago)",
    )
    assert sunday.retry_at == at("2026-03-02 14:00")  # Monday 08:00 CST
    thanksgiving = sms(alabama, at("2026-11-26 18:00"))
    assert thanksgiving.message == "Not now: Alabama allows no messages on holidays (Thursday 12:00 in America/Chicago)"
    assert sms(ORLANDO, at("2026-11-26 18:00")).allowed is True  # Florida has no holiday rule


def test_mississippi_counts_in_central_standard_time():
    jackson = locate(zip_code="39201")
    assert sms(jackson, at("2026-07-01 13:30")).allowed is False  # 08:30 CDT is 07:30 CST
    decision = sms(jackson, at("2026-07-01 13:30"))
    assert decision.message == (
        "Not now: quiet hours, Mississippi allows 08:00-20:00 (Wednesday 07:30 in America/Chicago (standard time))"
    )
    assert decision.retry_at == at("2026-07-01 14:00")  # 09:00 CDT = 08:00 CST
    assert sms(jackson, at("2026-01-14 14:00")).allowed is True  # 08:00 CST in winter


def test_an_unknown_zip_in_a_split_prefix_uses_the_strictest_zone():
    table_zip = "32499"  # not in the table; 324xx spans Eastern and Central
    where = locate(zip_code=table_zip)
    assert sms(where, at("2026-03-04 13:30")).allowed is False  # 08:30 EST but 07:30 CST
    assert sms(where, at("2026-03-04 14:00")).allowed is True
    decision = sms(where, at("2026-03-05 00:30"))  # 19:30 EST, 18:30 CST
    assert decision.allowed is True
    assert decision.notes == (
        "ZIP 32499 is not in the table and ZIPs starting 324 span several time zones: "
        "the strictest of America/New_York, America/Chicago",
    )
    assert sms(where, at("2026-03-05 01:00")).allowed is False  # 20:00 EST


def test_a_state_without_a_zip_uses_every_zone_of_the_state_and_says_so():
    decision = sms(locate(state="FL"), at("2026-03-04 13:30"))
    assert (decision.allowed, decision.reason) == (False, Reason.QUIET_HOURS)
    assert decision.message.endswith("(Wednesday 07:30 in America/Chicago)")
    assert decision.notes[0].startswith("time zone from the state FL")


def test_the_area_code_state_rules_apply_too():
    georgia_with_florida_phone = locate(zip_code="30301", phone="+1 305 555 0100")
    decision = sms(georgia_with_florida_phone, at("2026-03-05 01:30"))  # 20:30 EST: fine in Georgia, not Florida
    assert decision.message.startswith("Not now: quiet hours, Florida allows 08:00-20:00")


def test_no_time_zone_no_text():
    decision = sms(locate(), NOON_ET)
    assert (decision.allowed, decision.reason) == (False, Reason.NO_TIME_ZONE)
    assert decision.message == (
        "Not sent: the contact's time zone is unknown (no state, ZIP or area code): add the mailing address"
    )


def test_email_and_mail_have_no_hours_and_need_no_zone():
    midnight = at("2026-03-04 05:00")
    for action in (Action.EMAIL_BLAST, Action.MAIL_PIECE):
        decision = decide(action=action, consents=consents(), where=locate(), now=midnight)
        assert (decision.allowed, decision.window, decision.local_times) == (True, "", ())


def test_a_dialer_export_carries_the_window_instead_of_checking_the_hour():
    decision = decide(action=Action.DIALER_EXPORT, consents=consents(), where=ORLANDO, now=at("2026-03-04 05:00"))
    assert decision.allowed is True
    assert decision.message == "May be exported for the dialer: calls unknown"
    assert decision.window == (
        "federal (TCPA) 08:00-21:00 (47 CFR 64.1200(c)(1)); "
        "Florida 08:00-20:00 (Fla. Stat. 501.616(6)(a), as amended by 2021 SB 1120)"
    )
    assert decide(action=Action.DIALER_EXPORT, consents=consents(), where=locate(), now=NOON_ET).reason is (
        Reason.NO_TIME_ZONE
    )


def test_a_dialer_export_skips_a_phone_on_the_dnc_registry():
    flag = ConsentEvent(Channel.CALL, False, at("2026-02-01 00:00"), Source.DNC_REGISTRY, "phone on the DNC registry")
    decision = decide(action=Action.DIALER_EXPORT, consents=consents(flag), where=ORLANDO, now=NOON_ET)
    assert (decision.allowed, decision.message) == (
        False,
        "No calls: phone on the DNC registry (since 2026-02-01 00:00 UTC)",
    )


def test_consent_is_checked_before_property_and_hours():
    stop = reply_events("STOP", at=at("2026-02-01 00:00")).events
    decision = sms(ORLANDO, at("2026-03-04 05:00"), *stop, about=PropertyFacts(lead_status="dead"))
    assert decision.reason is Reason.OPTED_OUT


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        sms(ORLANDO, dt.datetime(2026, 3, 4, 12))


# --- tables ----------------------------------------------------------------------------------------------


def test_federal_holidays_with_observed_days():
    assert sorted(federal_holidays(2026)) == [
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 19),
        dt.date(2026, 2, 16),
        dt.date(2026, 5, 25),
        dt.date(2026, 6, 19),
        dt.date(2026, 7, 3),  # Independence Day falls on a Saturday
        dt.date(2026, 7, 4),
        dt.date(2026, 9, 7),
        dt.date(2026, 10, 12),
        dt.date(2026, 11, 11),
        dt.date(2026, 11, 26),
        dt.date(2026, 12, 25),
    ]


def test_every_state_rule_is_stricter_than_federal_and_cites_a_source():
    for state, rule in STATE_RULES.items():
        assert rule.source, state
        for window in rule.days:
            assert window is None or (window.start >= dt.time(8) and window.end <= dt.time(21)), state
