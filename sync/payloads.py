"""What DealFinder sends to GoHighLevel and how it reads what comes back: pure functions of plain objects (a lead
and its property, a buyer, a GoHighLevel contact), tested without a database."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from dealfinder.common.numbers import parse_decimal
from leads.choices import LeadStatus
from sync.ghl import Contact

LEAD_TAG = "dealfinder"

# Contact custom fields DealFinder fills in (create them in GoHighLevel with these keys).
LEAD_CUSTOM_FIELDS = {
    "score": "contact.dealfinder_score",
    "tier": "contact.dealfinder_tier",
    "arv": "contact.dealfinder_arv",
    "mao": "contact.dealfinder_mao",
    "parcel": "contact.dealfinder_parcel",
}
# Owner contact custom fields: the owner's digest traces a contact GoHighLevel merged back to its owner(s).
OWNER_CUSTOM_FIELDS = {
    "owner": "contact.dealfinder_owner",
    "parcels": "contact.dealfinder_parcels",
    "tier": LEAD_CUSTOM_FIELDS["tier"],
}
# Buyer buy-box custom fields read on pull (where the location has them).
BUYER_CUSTOM_FIELDS = {
    "min_price": "contact.buy_box_min_price",
    "max_price": "contact.buy_box_max_price",
    "min_beds": "contact.buy_box_min_beds",
    "property_types": "contact.buy_box_property_types",
    "target_zips": "contact.buy_box_zips",
}
BUYER_CONTACT_FIELDS = ("first_name", "last_name", "company", "email", "phone", "tags", "dnd", "is_active")

OPPORTUNITY_STATUS = {LeadStatus.CLOSED_WON: "won", LeadStatus.DEAD: "lost"}
LEAD_STATUS_FROM_OPPORTUNITY = {"won": LeadStatus.CLOSED_WON, "lost": LeadStatus.DEAD, "abandoned": LeadStatus.DEAD}


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _money(value) -> str:
    return "" if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def _e164(number: str) -> str:
    digits = re.sub(r"\D", "", number or "")
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+1{digits}" if len(digits) == 10 else number.strip()


def contact_channels(points) -> dict[str, str]:
    """The phone and email a contact is sent with, from its contact points (objects with kind, value, phone_type,
    dnc, tcpa, rank, source; oldest first): the best mobile not on the DNC registry and not TCPA-flagged first (a
    DNC or TCPA phone is never the contact's phone, which GoHighLevel texts and calls), then other such phones, a
    broker's entry before a trace's, by the provider's rank; the email a broker entered, else the best ranked.
    GoHighLevel's contact API takes one phone and one email (no additional ones): the others stay here."""

    def order(item):
        index, point = item
        return (point.source != "broker", point.rank is None, point.rank or 0, index)

    phones = [
        (i, p) for i, p in enumerate(points) if p.kind == "phone" and not p.dnc and not p.tcpa and p.value.strip()
    ]
    emails = [(i, p) for i, p in enumerate(points) if p.kind == "email" and p.value.strip()]
    phones.sort(key=lambda item: (item[1].phone_type != "mobile", *order(item)))
    emails.sort(key=order)
    channels = {}
    if phones:
        channels["phone"] = _e164(phones[0][1].value)
    if emails:
        channels["email"] = emails[0][1].value.strip()
    return channels


def lead_contact_payload(lead, contact_points=()) -> dict:
    """What DealFinder says about a lead's owner contact: body fields, custom values by key, tags; the phone and
    email from the lead's contact points (`contact_channels`)."""
    prop = lead.property
    return {
        "body": {
            "name": prop.owner_name or prop.address_normalized or prop.parcel_id,
            "address1": f"{prop.street} {prop.unit}".strip(),
            "city": prop.city,
            "state": prop.state,
            "postalCode": prop.zip,
            "country": "US",
            "source": "DealFinder",
            **contact_channels(contact_points),
        },
        "custom": {
            LEAD_CUSTOM_FIELDS["score"]: str(lead.total),
            LEAD_CUSTOM_FIELDS["tier"]: lead.tier,
            LEAD_CUSTOM_FIELDS["arv"]: _money(lead.arv),
            LEAD_CUSTOM_FIELDS["mao"]: _money(lead.mao),
            LEAD_CUSTOM_FIELDS["parcel"]: prop.parcel_id,
        },
        "tags": [LEAD_TAG, f"tier-{lead.tier.lower()}"],
    }


def owner_contact_payload(owner, *, best_tier: str, contact_points=()) -> dict:
    """What DealFinder says about an owner's contact (one per owner, whatever number of its parcels are leads): the
    person's first and last name or the company's name, the owner's mailing address, its best lead tier, and its
    phone and email (`contact_channels`: traced or entered by a broker)."""
    people = owner.people or []
    person = people[0] if people and owner.kind in ("individual", "joint", "estate") else None
    body = {
        "name": owner.display_name,
        "address1": owner.mailing_street,
        "city": owner.mailing_city,
        "state": owner.mailing_state,
        "postalCode": owner.mailing_zip,
        "country": "US",
        "source": "DealFinder",
        **contact_channels(contact_points),
    }
    if person:
        body["firstName"] = " ".join(p for p in (person["first"], person["middle"]) if p).title()
        body["lastName"] = " ".join(p for p in (person["last"], person["suffix"]) if p).title()
    elif owner.entity:
        body["companyName"] = owner.display_name
    return {
        "body": body,
        "custom": {
            OWNER_CUSTOM_FIELDS["owner"]: owner.digest,
            OWNER_CUSTOM_FIELDS["parcels"]: str(owner.property_count),
            OWNER_CUSTOM_FIELDS["tier"]: best_tier,
        },
        "tags": [LEAD_TAG, f"tier-{best_tier.lower()}"],
    }


def opportunity_status(lead_status: str) -> str:
    return OPPORTUNITY_STATUS.get(lead_status, "open")


def lead_opportunity_payload(lead) -> dict:
    prop = lead.property
    value = lead.mao if lead.mao is not None else lead.arv
    return {
        "name": f"{prop.address_normalized or prop.parcel_id} (Tier {lead.tier}, score {lead.total})",
        "status": opportunity_status(lead.status),
        "monetaryValue": float(value) if value is not None else 0,
    }


def match_message(match) -> str:
    prop, lead = match.property, getattr(match.property, "lead", None)
    mao = f", MAO ${lead.mao:,.0f}" if lead is not None and lead.mao is not None else ""
    return f"New deal: {prop.address_normalized or prop.parcel_id}{mao}. Reply YES if interested."


def _decimal(value) -> str | None:
    try:
        return _money(parse_decimal(value))
    except (ValueError, ArithmeticError):
        return None


def _int(value) -> int | None:
    """A whole number of beds; a fraction is cut to its whole part (3.5 -> 3), as GoHighLevel's number fields
    allow decimals."""
    try:
        return int(parse_decimal(value))
    except ValueError:
        return None


def _text_list(value, *, lower: bool = False) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return sorted({(str(v).strip().lower() if lower else str(v).strip()) for v in items if str(v).strip()})


BUY_BOX_PARSERS = {
    "min_price": _decimal,
    "max_price": _decimal,
    "min_beds": _int,
    "property_types": lambda v: _text_list(v, lower=True),
    "target_zips": _text_list,
}


def buyer_fields_from_contact(contact: Contact, field_keys: dict[str, str], *, buyer_tag: str) -> dict[str, Any]:
    """A contact as Buyer values in their JSON form (buy box only where the custom field is present)."""
    values: dict[str, Any] = {
        "first_name": contact.first_name[:100],
        "last_name": contact.last_name[:100],
        "company": contact.company_name[:200],
        "email": contact.email.lower(),
        "phone": contact.phone[:32],
        "tags": sorted(set(contact.tags)),
        "dnd": contact.dnd,
        "is_active": buyer_tag in contact.tags,
    }
    keys = {key: name for name, key in BUYER_CUSTOM_FIELDS.items()}
    for field_id, raw in contact.custom_fields.items():
        name = keys.get(field_keys.get(field_id, ""))
        if name and raw not in (None, "", []):
            values[name] = BUY_BOX_PARSERS[name](raw)
    return values


def buyer_local_fields(buyer) -> dict[str, Any]:
    values = {name: getattr(buyer, name) for name in BUYER_CONTACT_FIELDS}
    values["tags"] = sorted(set(buyer.tags or []))
    values["min_price"] = _money(buyer.min_price) or None
    values["max_price"] = _money(buyer.max_price) or None
    values["min_beds"] = buyer.min_beds
    values["property_types"] = _text_list(buyer.property_types or [], lower=True)
    values["target_zips"] = _text_list(buyer.target_zips or [])
    return values


def buyer_apply(buyer, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in ("min_price", "max_price"):
            value = Decimal(value) if value is not None else None
        setattr(buyer, name, value)


def lead_status_from_opportunity(remote_status: str, current: str) -> str:
    """won -> closed_won, lost/abandoned -> dead; open reopens a closed lead as follow-up."""
    if remote_status in LEAD_STATUS_FROM_OPPORTUNITY:
        return LEAD_STATUS_FROM_OPPORTUNITY[remote_status]
    if current in OPPORTUNITY_STATUS:
        return LeadStatus.FOLLOW_UP
    return current
