"""Owners: one person or company across its parcels (issue 20). The pure core: no models, no database.

Modules, each on one subject:
- `names`: an owner name as assessors and recorders write it -> `OwnerName` (kind, people, entity, indicators,
  canonical key); `people`, `trusts`, `entities` read its parts, `vocabulary` holds the word tables.
- `mailing`: `MailingAddress` and the address key resolution compares.
- `resolution`: `resolve_owners(records, corrections=...)` -> owners, each with its explanation.
- `corrections`: a broker's merge / split / move, and how to persist them so they survive re-ingest.
- `continuity`: which stored owner a re-keyed owner continues (keeps its row and its GoHighLevel contact).

How to integrate
----------------
Ingest (after the parcels' upsert, per county or for the whole table; set-based around it):
1. Read `(parcel_id, owner_name, owner_mailing_address, state)` of the active properties and build
   `OwnerRecord(parcel_id, owner_name, MailingAddress.from_line(owner_mailing_address), state)`; when `prepare`
   still holds the mailing parts, build `MailingAddress(street + unit, city, state, zip)` directly. A source that
   always writes people one way may pass `name_order="last_first"` / `"first_last"` (a DataSource field).
2. Load the corrections (see `corrections`) and call `resolve_owners(records, corrections=...)`. Unknown or
   confidential owner names come back in `unresolved`: leave those parcels without an owner.
3. `carry_over({parcel_id: previous owner key}, resolution.owners)` says which stored owners were re-keyed:
   rename those rows, then bulk-upsert owners on `digest` and set `Property.owner` in one set-based update.
   Delete owners left without parcels only after their GoHighLevel links were handed over or dropped.
4. Record each `CorrectionOutcome` that is not "applied" so the admin can show stale and conflicting corrections.

Owner model (suggested): `key` (text) and `digest` (char 32, unique: the upsert key), `kind`, `display_name`,
`canonical_name`, `people` (JSON: last/first/middle/suffix), `entity`, mailing street/city/state/zip, the indicators
(`is_corporate`, `is_trust`, `is_estate`, `is_government`, `is_bank`, `is_out_of_state`), `name_forms` and
`explanation` (JSON lists, shown on the owner page), `property_count`; `Property.owner` (FK, nullable). Absentee
stays on the property (`Property.is_absentee`: this parcel's mailing address is not its situs); out-of-state is the
owner's (its mailing state is not the state of one or more of its parcels; `out_of_state_record_ids` says which).

GoHighLevel: one contact per Owner row, linked through `ExternalLink(owner, contact)`; a lead stays one opportunity
on the owner's contact. The contact's identity on our side is the Owner row (found again by `digest`, carried over
by `continuity`); send `firstName` / `lastName` from `name.people[0]` for individuals, joint owners, estates and
trustees (the other people as additional names / a note), `companyName` from `name.entity` for companies, public
bodies and named trusts, the mailing address as the contact address, and `digest` in a custom field so a contact
GoHighLevel merges on its own rules can be traced back to the owner(s) it stands for.
"""

from .continuity import carry_over
from .corrections import Assign, Correction, CorrectionOutcome, Merge, RecordRef, Split
from .mailing import MailingAddress
from .names import OwnerKind, OwnerName, normalize_owner_text, parse_owner_name
from .people import PersonName
from .resolution import OwnerRecord, Resolution, ResolvedOwner, Unresolved, resolve_owners

__all__ = [
    "Assign",
    "Correction",
    "CorrectionOutcome",
    "MailingAddress",
    "Merge",
    "OwnerKind",
    "OwnerName",
    "OwnerRecord",
    "PersonName",
    "RecordRef",
    "Resolution",
    "ResolvedOwner",
    "Split",
    "Unresolved",
    "carry_over",
    "normalize_owner_text",
    "parse_owner_name",
    "resolve_owners",
]
