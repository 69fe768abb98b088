"""Propose a field mapping for a source from its columns' names and sample values, with a confidence and a reason
per target; guess the dataset when it is not given. Pure: column descriptions and sample rows in, a Proposal out.

Each target is scored per column as (how sure the name makes us) x (how well the values fit the target), and the
best pairs are taken greedily, each column once. Addresses split over columns (house number, street name, type)
are joined; a column holding "FL 32801" gives state and zip; mailing address lines become one line; dates in a
format the mapping does not read by itself get a `date:<format>` transform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from properties.ingest.mapping import KEY_TARGET, TARGETS
from properties.normalize import normalize_parcel_id

from .values import Profile, natively_read_date, profile
from .vocabulary import DATASET_WORDS, RULES, is_mailing, name_key, name_score, street_part, value_kind

THRESHOLD = 0.45  # below this a target is left unmapped
CHECK_BELOW = 0.6  # proposals below this are listed as problems to check
DATE_TYPES = {"esriFieldTypeDate", "calendar_date", "floating_timestamp", "fixed_timestamp", "timestamp", "date",
              "datetime", "timestamptz"}  # fmt: skip
SKIP_TYPES = {"esriFieldTypeOID", "esriFieldTypeGlobalID", "esriFieldTypeGUID", "esriFieldTypeGeometry",
              "esriFieldTypeBlob", "esriFieldTypeRaster", "esriFieldTypeXML", "point", "location", "multipoint",
              "polygon", "multipolygon", "line", "multiline", "object", "array"}  # fmt: skip
# What makes each dataset itself (weights), and the target it cannot do without.
DATASET_SIGNS: dict[str, dict[str, float]] = {
    "tax_sales": {"tda_number": 2, "sale_date": 1, "opening_bid": 1, "deed_status": 1},
    "foreclosures": {"case_number": 1, "borrower": 1.5, "lender": 1.5, "default_amount": 1, "filing_date": 1,
                     "auction_date": 1},
    "code_violations": {"case_number": 1, "violation_type": 1.5, "opened_at": 1, "closed_at": 1},
    "listings": {"list_price": 2, "days_on_market": 1, "listed_at": 1, "url": 1},
    "parcels": {"owner_name": 1, "market_value": 1, "assessed_value": 1, "year_built": 1, "living_sqft": 1,
                "last_sale_price": 1, "street": 1},
}  # fmt: skip
DATASET_KEY = {"tax_sales": "tda_number", "foreclosures": "case_number", "code_violations": "case_number",
               "listings": "list_price"}  # fmt: skip
_TRAILING_DIGITS = re.compile(r"\d+$")


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: str = ""  # as the source says it
    alias: str = ""


@dataclass(frozen=True)
class Choice:
    target: str
    spec: str | dict
    score: float
    reason: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    message: str
    target: str | None = None
    level: str = "warning"  # or "error": the mapping cannot be used as it is

    def as_dict(self) -> dict:
        return {"target": self.target, "level": self.level, "message": self.message}


@dataclass
class Proposal:
    dataset: str
    dataset_reason: str
    choices: dict[str, Choice] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    parcel_format: str = "canonical"

    @property
    def mapping(self) -> dict:
        """Usable as it is by `ingest --mapping` and as a DataSource's field mapping."""
        return {target: choice.spec for target, choice in self.choices.items()}

    @property
    def confidence(self) -> dict[str, dict]:
        return {
            t: {"score": c.score, "source": ", ".join(c.columns), "reason": c.reason} for t, c in self.choices.items()
        }


@dataclass
class _Column:
    info: FieldInfo
    profile: Profile
    is_date_type: bool
    mailing: bool


def propose(
    *,
    fields: list[FieldInfo],
    rows: list[dict],
    dataset: str | None = None,
    title: str = "",
    has_geometry: bool = False,
    edit_date_field: str | None = None,
    default_parcel_format: str = "canonical",
) -> Proposal:
    """The mapping DealFinder proposes for a source (the dataset guessed when not given)."""
    columns = [
        _Column(f, profile(row.get(f.name) for row in rows), f.type in DATE_TYPES, is_mailing(f.name))
        for f in fields
        if f.type not in SKIP_TYPES and not f.name.startswith(":")
    ]
    if dataset is None:
        dataset, reason = _guess_dataset(columns, title, has_geometry, edit_date_field)
    else:
        reason = "given"
    result = _propose_for(dataset, columns, has_geometry, edit_date_field)
    result.dataset_reason = reason
    result.parcel_format = _parcel_format(columns, result.choices.get("parcel_id"), default_parcel_format)
    return result


def _guess_dataset(columns, title: str, has_geometry: bool, edit_date_field) -> tuple[str, str]:
    best, best_score, best_reason = "parcels", -1.0, ""
    for dataset, signs in DATASET_SIGNS.items():
        proposal = _propose_for(dataset, columns, has_geometry, edit_date_field)
        key = DATASET_KEY.get(dataset)
        if key and (key not in proposal.choices or proposal.choices[key].score < 0.6):
            continue
        found = {t: proposal.choices[t] for t in signs if t in proposal.choices}
        score = sum(signs[t] * c.score for t, c in found.items()) / sum(signs.values())
        words = re.search(DATASET_WORDS[dataset], title.upper()) if title else None
        score += 0.3 if words else 0.0
        if dataset == "parcels":
            score += 0.05  # the default, on a tie
        if score > best_score:
            columns_named = ", ".join(f"{', '.join(c.columns)} ({t})" for t, c in found.items())
            best, best_score = dataset, score
            best_reason = f"columns {columns_named}" if columns_named else "no dataset-specific columns"
            if words:
                best_reason += f"; the name {title!r}"
    return best, f"guessed from {best_reason}"


def _propose_for(dataset: str, columns: list[_Column], has_geometry: bool, edit_date_field) -> Proposal:
    targets = [t for t in TARGETS[dataset] if t in RULES and not (has_geometry and t in ("latitude", "longitude"))]
    candidates: list[Choice] = []
    for target in targets:
        for column in columns:
            choice = _score(target, column)
            if choice is not None:
                candidates.append(choice)
    if "source_updated_at" in targets and edit_date_field:
        reason = f"the layer's editor tracking keeps each record's last edit in {edit_date_field}"
        candidates.append(Choice("source_updated_at", edit_date_field, 0.9, reason, (edit_date_field,)))
    candidates += _compound(targets, columns)
    proposal = Proposal(dataset=dataset, dataset_reason="")
    used: set[str] = set()
    order = {t: n for n, t in enumerate(targets)}
    for choice in sorted(candidates, key=lambda c: (-c.score, order.get(c.target, 99))):
        shared = choice.target in ("state", "zip", "mailing_state", "mailing_zip") and isinstance(choice.spec, dict)
        if choice.target in proposal.choices or choice.score < THRESHOLD:
            continue
        if not shared and used & set(choice.columns):
            continue
        proposal.choices[choice.target] = choice
        used.update(choice.columns)
    _mailing_lines(proposal, columns, used)
    _problems(proposal, dataset, columns, has_geometry)
    return proposal


# --- one column, one target -------------------------------------------------------------------------


def _score(target: str, column: _Column) -> Choice | None:
    info, prof = column.info, column.profile
    by_name = max(name_score(target, info.name), 0.9 * name_score(target, info.alias) if info.alias else 0.0)
    if by_name == 0:
        return None
    if target in ("street", "unit", "city", "state", "zip") and column.mailing:
        return None  # the owner's mailing address, not the property's
    fit, why, spec = _fit(target, column)
    if fit <= 0:
        return None
    if prof.filled == 0:
        fit, why = fit * 0.6, "empty in the sample"
    score = round(min(by_name * fit, 0.99), 2)
    return Choice(target, spec, score, f"name {info.name!r}; {why}", (info.name,))


def _share(value: float, n: int) -> str:
    return f"{value:.0%} of {n} sample values"


def _fit(target: str, column: _Column) -> tuple[float, str, str | dict]:
    """(how well the values fit, why, the spec) for one column as one target."""
    name, prof = column.info.name, column.profile
    kind, n = value_kind(target), prof.filled
    if kind == "id":
        if prof.date > 0.8 or (prof.money > 0.8 and prof.integer < 0.5):
            return 0.2, "values look like dates or amounts, not ids", name
        unique = prof.unique if n >= 5 else 1.0
        uniq = 1.0 if unique >= 0.9 or target != "parcel_id" else 0.8 if unique >= 0.5 else 0.5
        return max(prof.parcelish, prof.integer) * uniq, f"id-like values, {unique:.0%} distinct", name
    if kind == "address":
        if prof.address >= 0.6:
            return 1.0, f"street addresses ({_share(prof.address, n)} start with a house number)", name
        return (
            (0.8, "some values start with a house number", name)
            if prof.address >= 0.3
            else (0.45, "few values start with a house number", name)
        )
    if kind == "address_line":
        return (1.0 if prof.address >= 0.5 else 0.5), "one-line addresses", name
    if kind == "city":
        if prof.words >= 0.8 and prof.state < 0.5 and prof.zip < 0.5:
            return 1.0, "place names", name
        return 0.4, "values do not look like place names", name
    if kind == "state":
        if prof.state >= 0.8:
            return 1.0, f"state codes ({_share(prof.state, n)})", name
        return 0.3, "values are not state codes", name
    if kind == "zip":
        if prof.zip >= 0.8:
            return 1.0, f"zip codes ({_share(prof.zip, n)})", name
        return 0.3, "values are not zip codes", name
    if kind == "name":
        if prof.number > 0.5 or prof.date > 0.5:
            return 0.0, "", name
        if n >= 5 and prof.unique < 0.3:
            return 0.15, f"only {prof.distinct} distinct values: a category, not names", name
        return 1.0, "names", name
    if kind == "use":
        if prof.words >= 0.6:
            return 1.0, "land-use words (words are read the same in every county)", name
        return (0.85, "land-use codes", name) if prof.code >= 0.6 else (0.6, "land-use values", name)
    if kind in ("count", "count_days"):
        ok = prof.small_count if kind == "count" else prof.integer
        return (1.0, "small whole numbers", name) if ok >= 0.9 else (0.3, "values are not small counts", name)
    if kind == "area":
        if prof.area + prof.zero >= 0.8:
            return 1.0, "areas in square feet", name
        if prof.number >= 0.8 and prof.integer < 0.5:
            return 0.3, "small decimal numbers (acres?), not square feet", name
        return 0.4, "values do not look like square feet", name
    if kind == "year":
        return (1.0, "years", name) if prof.year + prof.zero >= 0.8 else (0.3, "values are not years", name)
    if kind == "boolean":
        return (1.0, "yes/no values", name) if prof.boolean >= 0.9 else (0.3, "values are not yes/no", name)
    if kind == "money":
        if prof.money >= 0.8:
            return 1.0, "amounts", name
        if prof.year >= 0.8:
            return 0.2, "values are years", name
        return 0.3, "values are not amounts", name
    if kind == "date":
        if column.is_date_type:
            return 1.0, f"a {column.info.type} column", name
        if prof.epoch_ms >= 0.8:
            return 1.0, "dates as epoch milliseconds", name
        if prof.date >= 0.8:
            if natively_read_date(prof.date_format):
                return 1.0, "dates", name
            why = f"dates written {prof.date_format} (read with a transform)"
            return 1.0, why, {"source": name, "transform": [f"date:{prof.date_format}"]}
        return 0.3, "values are not dates", name
    if kind in ("latitude", "longitude"):
        if prof.projected >= 0.5:
            return 0.0, "", name
        ok = prof.latitude if kind == "latitude" else prof.longitude
        if ok >= 0.9:
            return 1.0, f"decimal degrees ({_share(ok, n)})", name
        if prof.pair >= 0.9:
            return 1.0, "[longitude, latitude] pairs", name
        return 0.0, "", name
    if kind == "url":
        return (1.0, "web links", name) if prof.url >= 0.8 else (0.3, "values are not links", name)
    return 1.0, "text", name


# --- several columns ---------------------------------------------------------------------------------


def _compound(targets: list[str], columns: list[_Column]) -> list[Choice]:
    """Street addresses split over columns; state and zip in one column ("FL 32801"); a city-state-zip line."""
    out: list[Choice] = []
    if "street" in targets:
        parts: dict[str, _Column] = {}
        for column in columns:
            part = street_part(column.info.name)
            if part and part not in parts and not column.mailing and _part_fits(part, column.profile):
                parts[part] = column
        if "number" in parts and "name" in parts:
            order = ("number", "fraction", "predir", "name", "type", "postdir")
            names = tuple(parts[p].info.name for p in order if p in parts)
            reason = f"house number and street are separate columns ({', '.join(names)}): joined"
            out.append(Choice("street", {"concat": list(names)}, 0.8, reason, names))
    for column in columns:
        prof, name = column.profile, column.info.name
        if prof.state_zip >= 0.8 and prof.filled:
            prefix = "mailing_" if column.mailing else ""
            if f"{prefix}state" in targets:
                for part in ("state", "zip"):
                    spec = {"source": name, "split": "state_zip", "part": part}
                    why = f"name {name!r}; state and zip in one column ({_share(prof.state_zip, prof.filled)})"
                    out.append(Choice(f"{prefix}{part}", spec, 0.85, why, (name,)))
    return out


def _part_fits(part: str, prof: Profile) -> bool:
    if prof.filled == 0:
        return part not in ("number", "name")
    if part == "number":
        return prof.integer >= 0.8 or prof.code >= 0.8
    if part == "name":
        return prof.words + prof.address >= 0.6 and prof.state < 0.5 and prof.zip < 0.5
    return prof.number < 0.5


def _mailing_lines(proposal: Proposal, columns: list[_Column], used: set[str]) -> None:
    """Mailing addresses written as numbered lines (CHANGENOTICEADDRESS1-4, ADDR_LINE1-3) without separate city,
    state and zip columns become one line; a situs city-state-zip column joins the street."""
    chosen = proposal.choices.get("mailing_street")
    parts = ("mailing_city", "mailing_state", "mailing_zip")
    if (
        chosen
        and not any(p in proposal.choices for p in parts)
        and "owner_mailing_address" in TARGETS[proposal.dataset]
    ):
        stem = _TRAILING_DIGITS.sub("", name_key(chosen.columns[0]))
        lines = [
            c.info.name
            for c in columns
            if c.mailing
            and c.profile.filled
            and _TRAILING_DIGITS.sub("", name_key(c.info.name)) == stem
            and (c.info.name in chosen.columns or c.info.name not in used)
        ]
        if len(lines) > 1:
            del proposal.choices["mailing_street"]
            spec = {"concat": lines, "sep": ", "}
            why = f"the mailing address is written as lines ({', '.join(lines)}): joined into one"
            proposal.choices["owner_mailing_address"] = Choice("owner_mailing_address", spec, 0.75, why, tuple(lines))
            used.update(lines)
    street = proposal.choices.get("street")
    if street and "city" not in proposal.choices:
        line = next(
            (c for c in columns if not c.mailing and c.info.name not in used and c.profile.city_state_zip >= 0.8), None
        )
        if line is not None:
            names = (*street.columns, line.info.name)
            sources = (
                street.spec["concat"] if isinstance(street.spec, dict) and "concat" in street.spec else [street.spec]
            )
            if all(isinstance(s, str) for s in sources):
                spec = {"concat": [*sources, line.info.name], "sep": ", "}
                why = f"{street.reason}; with {line.info.name} (city, state and zip in one column), read as one line"
                proposal.choices["street"] = Choice("street", spec, min(street.score, 0.7), why, names)
                used.add(line.info.name)


# --- problems and the parcel format --------------------------------------------------------------------


def _problems(proposal: Proposal, dataset: str, columns: list[_Column], has_geometry: bool) -> None:
    for required in ("parcel_id", KEY_TARGET.get(dataset)):
        if required and required not in proposal.choices:
            proposal.problems.append(
                Problem(f"no column reads as {required}: map it by hand before creating the source", required, "error")
            )
    for target, choice in proposal.choices.items():
        if choice.score < CHECK_BELOW:
            proposal.problems.append(
                Problem(f"check: {', '.join(choice.columns)} ({choice.score:.2f}): {choice.reason}", target)
            )
    if not has_geometry:
        projected = [
            c.info.name for c in columns if name_score("longitude", c.info.name) or name_score("latitude", c.info.name)
        ]
        projected = [n for n in projected if next(c for c in columns if c.info.name == n).profile.projected >= 0.5]
        if projected:
            proposal.problems.append(Problem(
                f"{' and '.join(projected)} hold projected coordinates (feet or metres), not longitude/latitude: "
                "they are not mapped; the records will need a coordinate system for them or a geocoder"
            ))  # fmt: skip
        if "latitude" not in proposal.choices and not projected and dataset in ("parcels", "tax_sales", "foreclosures"):
            proposal.problems.append(
                Problem("no point column: records will be placed only by the geocoder (GEOCODER_ENABLED)", "latitude")
            )
    acres = [c.info.name for c in columns if "ACRE" in name_key(c.info.name)]
    if acres and "lot_sqft" in TARGETS[dataset] and "lot_sqft" not in proposal.choices:
        proposal.problems.append(
            Problem(
                f"{', '.join(acres)} hold(s) lot size in acres; lot_sqft needs square feet, so it is not mapped",
                "lot_sqft",
            )
        )


def _parcel_format(columns: list[_Column], choice: Choice | None, default: str) -> str:
    """orange_fl when the parcel ids are Orange County's display form (SS-TT-RR-SSSS-BB-LLL); else the default."""
    if choice is None or not isinstance(choice.spec, str):
        return default
    column = next(c for c in columns if c.info.name == choice.spec)
    examples = [e for e in column.profile.examples if e]
    if not examples or not any("-" in e for e in examples):
        return default
    try:
        for example in examples:
            normalize_parcel_id(example, "orange_fl")
    except ValueError:
        return default
    return "orange_fl"
