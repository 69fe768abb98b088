"""A sales source kept in several tables joined on the document id, as New York City's ACRIS publishes deeds:
a master table (one row per document: type, dates, amount), a parties table (several rows per document: party
type 1 = grantor, 2 = grantee, name, address) and a legals table (several rows per document: borough, block and
lot, i.e. the parcels the document conveys).

The source's own URL is the master table; its field mapping names the other two under "tables":

    {"tables": {"key": "document_id",
                "parties": {"url": "https://data.cityofnewyork.us/resource/636b-3b5g.json", "key": "document_id",
                            "role": "party_type", "name": "name", "grantor": ["1"], "grantee": ["2"]},
                "legals": {"url": "https://data.cityofnewyork.us/resource/8h5j-fqxa.json", "key": "document_id"}},
     "parcel_id": {"concat": ["borough", "block", "lot"], "sep": "-"}, "document_id": "document_id", ...}

Each table is a source of its own kind ("kind": socrata, arcgis, ckan or file; the source's kind by default)
with its own "where". `JoinedReader` reads the parties and legals in full, then streams the master's pages and
joins in memory on the key (a hash join: no request or query per document). Every joined record is one
(document, legal) pair: the master's attributes, the legal row's attributes where the master has no attribute of
that name, and `grantor` / `grantee`, the document's parties of each side in the order read, joined with "; ".
So a deed over three lots is three records (three Sale rows sharing the document id, flagged multi-parcel by the
arms-length rules) and a deed to two buyers has both in `grantee`.

Refused, each recorded on the run with its reason, while the rest land: a party or legal row whose document the
master does not hold (not reported when a master page failed: its document may be on that page), a party or
legal row without a key, and a document without any legal row (it names no parcel). A page of the parties or
legals that cannot be read fails the whole run (SourceError): grantees read in part would store wrong sales.
Incremental pulls do not apply: every table is read in full on every run (restrict them with their "where").
Memory is bounded: more than INGEST_JOIN_MAX_ROWS child rows (500,000 by default) fail the run with a SourceError
that says to narrow the tables' "where", before a worker runs out of memory.

`join_sample` joins a sample of the master (the onboarding probe's) with only its documents' parties and legals,
asked for with `<key> IN (...)` added to each table's "where" (a file table is read whole).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from django.conf import settings

from .base import Page, RawRecord, Reader, SourceError
from .schema import SourceField, SourceSchema

TABLES = "tables"  # the field-mapping key of a joined source's configuration
PARTY_SEPARATOR = "; "  # between the parties of one side (properties.party_names splits on it)
JOINED_FIELDS = ("grantor", "grantee")  # the attributes the join adds to every record
_KINDS = ("socrata", "arcgis", "ckan", "file")
_TABLE_KEYS = {"url", "kind", "where", "key"}
_PARTY_KEYS = _TABLE_KEYS | {"role", "name", "grantor", "grantee"}


@dataclass(frozen=True)
class ChildTable:
    """One table joined to the master: where it is and which of its attributes holds the document id."""

    url: str
    key: str
    kind: str | None = None  # None: the source's own kind
    where: str | None = None


@dataclass(frozen=True)
class PartiesTable(ChildTable):
    role: str = "party_type"  # the attribute saying which side a party is on
    name: str = "name"  # the attribute holding the party's name
    grantor: tuple[str, ...] = ("1",)  # the role values of sellers
    grantee: tuple[str, ...] = ("2",)  # and of buyers


@dataclass(frozen=True)
class JoinConfig:
    key: str  # the master's document id attribute
    parties: PartiesTable | None = None
    legals: ChildTable | None = None

    @classmethod
    def from_mapping(cls, config) -> JoinConfig:
        """The "tables" entry of a field mapping; ValueError says what is wrong."""
        if not isinstance(config, dict):
            raise ValueError('"tables" must be a JSON object: {"key": ..., "parties": {...}, "legals": {...}}')
        unknown = set(config) - {"key", "parties", "legals"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; allowed: key, parties, legals")
        key = _text(config, "key", "tables", default="document_id")
        if "parties" not in config and "legals" not in config:
            raise ValueError("name the parties and/or the legals table to join")
        parties = legals = None
        if "parties" in config:
            spec = _table(config["parties"], "parties", _PARTY_KEYS)
            sides = {side: _values(spec, side, default) for side, default in (("grantor", ["1"]), ("grantee", ["2"]))}
            if set(sides["grantor"]) & set(sides["grantee"]):
                raise ValueError("parties: a role value cannot mean both grantor and grantee")
            parties = PartiesTable(
                **_child(spec, "parties", key),
                role=_text(spec, "role", "parties", default="party_type"),
                name=_text(spec, "name", "parties", default="name"),
                **sides,
            )
        if "legals" in config:
            legals = ChildTable(**_child(_table(config["legals"], "legals", _TABLE_KEYS), "legals", key))
        return cls(key, parties, legals)

    def child_tables(self) -> list[tuple[str, ChildTable]]:
        return [(name, t) for name, t in (("parties", self.parties), ("legals", self.legals)) if t is not None]


def _table(spec, name: str, allowed: set[str]) -> dict:
    if not isinstance(spec, dict):
        raise ValueError(f'{name}: a table is a JSON object: {{"url": ..., "key": ...}}')
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"{name}: unknown keys {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
    return spec


def _text(spec: dict, key: str, where: str, *, default: str | None = None) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key!r} must be a non-blank text")
    return value.strip()


def _values(spec: dict, key: str, default: list[str]) -> tuple[str, ...]:
    value = spec.get(key, default)
    value = [value] if isinstance(value, str | int) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str | int) for v in value):
        raise ValueError(f"parties: {key!r} is the role value (or a list of them) meaning {key}")
    return tuple(str(v).strip().upper() for v in value)


def _child(spec: dict, name: str, key: str) -> dict:
    url = _text(spec, "url", name)
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"{name}: the url must be http(s)")
    kind = spec.get("kind")
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"{name}: kind must be one of {', '.join(_KINDS)}")
    where = spec.get("where")
    if where is not None and not isinstance(where, str):
        raise ValueError(f"{name}: 'where' must be a text")
    return {"url": url, "key": _text(spec, "key", name, default=key), "kind": kind, "where": where or None}


def join_config(field_mapping) -> JoinConfig | None:
    """The source's join configuration, or None for a one-table source."""
    config = (field_mapping or {}).get(TABLES) if isinstance(field_mapping, dict) else None
    return None if config is None else JoinConfig.from_mapping(config)


def _key(record: RawRecord, attribute: str) -> str | None:
    value = record.attributes.get(attribute)
    text = "" if value is None else str(value).strip()
    return text.upper() or None


class JoinedReader:
    """Pages of the master joined with its parties and legals (see the module's docstring)."""

    def __init__(self, master: Reader, config: JoinConfig, children: dict[str, Reader], *, max_rows: int):
        self.master, self.config, self.children = master, config, children
        self.since = None  # never incremental
        self.max_rows, self.held = max_rows, 0  # child rows held in memory, at most max_rows

    def schema(self) -> SourceSchema | None:
        """The master's attributes, the legals' (where the master has none of that name) and grantor/grantee."""
        master = self.master.schema()
        if master is None:
            return None
        fields, system = list(master.fields), set(master.system)
        names = {f.name.lower() for f in fields}
        legals = self.children.get("legals")
        described = legals.schema() if legals is not None else None
        for f in described.fields if described is not None else ():
            if f.name.lower() not in names:
                fields.append(f)
                names.add(f.name.lower())
        if self.config.parties is not None:
            fields = [f for f in fields if f.name.lower() not in JOINED_FIELDS]
            fields += [SourceField(name, "text", "joined from the parties table") for name in JOINED_FIELDS]
        return SourceSchema(tuple(fields), system=frozenset(system))

    def close(self) -> None:
        for reader in (self.master, *self.children.values()):
            if hasattr(reader, "close"):
                reader.close()

    def __iter__(self) -> Iterator[Page]:
        try:
            rejected: list[dict] = []
            parties = self._read("parties", rejected)
            legals = self._read("legals", rejected)
            seen: set[str] = set()
            master_failed = False
            last = 0
            for page in self.master:
                last = page.number
                if page.error:
                    master_failed = True
                    yield page
                    continue
                records, refused = self._join(page.records, parties, legals, seen)
                yield Page(page.number, records=records, rejected=[*rejected, *refused])
                rejected = []
            if not master_failed:
                rejected += _orphans(parties, seen, "party") + _orphans(legals, seen, "legal")
            if rejected:
                yield Page(last + 1, rejected=rejected)
        finally:
            self.close()

    def _read(self, name: str, rejected: list[dict]) -> dict[str, list[RawRecord]] | None:
        """One child table by document id, its rows in the order read; SourceError when a page fails."""
        table, reader = getattr(self.config, name), self.children.get(name)
        if table is None or reader is None:
            return None
        rows: dict[str, list[RawRecord]] = {}
        for page in reader:
            if page.error:
                raise SourceError(f"the {name} table ({table.url}) could not be read: page {page.number}: {page.error}")
            self.held += len(page.records)
            if self.held > self.max_rows:
                raise SourceError(
                    f"the parties and legals tables hold more than {self.max_rows:,} rows, more than a join in "
                    f'memory may hold: narrow each table\'s "where" to the documents of this source (e.g. those '
                    "recorded in the last two years), or raise INGEST_JOIN_MAX_ROWS"
                )
            for record in page.records:
                key = _key(record, table.key)
                if key is None:
                    reason = f"{name} row without a document id ({table.key!r} is blank)"
                    rejected.append({"record": f"{name} {record.external_id}", "reason": reason})
                else:
                    rows.setdefault(key, []).append(record)
        return rows

    def _join(self, masters: Iterable[RawRecord], parties, legals, seen: set[str]):
        config, records, refused = self.config, [], []
        party = config.parties
        for master in masters:
            key = _key(master, config.key)
            if key is None:
                reason = f"document without an id ({config.key!r} is blank)"
                refused.append({"record": master.external_id, "reason": reason})
                continue
            seen.add(key)
            sides = {}
            if party is not None:
                named = [(str(p.attributes.get(party.role) or "").strip().upper(), p.attributes.get(party.name))
                         for p in parties.get(key, ())]  # fmt: skip
                for side, roles in (("grantor", party.grantor), ("grantee", party.grantee)):
                    names = [str(n).strip() for role, n in named if role in roles and n and str(n).strip()]
                    sides[side] = PARTY_SEPARATOR.join(names) or None
            if legals is None:
                records.append(RawRecord(master.external_id, {**master.attributes, **sides}, master.geometry,
                                         master.xy))  # fmt: skip
                continue
            rows = legals.get(key)
            if not rows:
                refused.append({"record": master.external_id, "reason": f"document {key} has no legal (parcel) row"})
                continue
            for legal in rows:
                attributes = {**legal.attributes, **master.attributes, **sides}
                placed = legal if legal.xy is not None or legal.geometry is not None else master
                records.append(
                    RawRecord(f"{master.external_id}/{legal.external_id}", attributes, placed.geometry, placed.xy)
                )
        return records, refused


def _orphans(rows: dict[str, list[RawRecord]] | None, seen: set[str], what: str) -> list[dict]:
    reason = "{} of document {}, which the master table does not hold"
    return [
        {"record": f"{what} {record.external_id}", "reason": reason.format(what, key)}
        for key, records in (rows or {}).items()
        if key not in seen
        for record in records
    ]


def joined_reader(master: Reader, config: JoinConfig, make: Callable[[ChildTable], Reader]) -> JoinedReader:
    """The master reader joined with a reader per child table (`make` builds one from its table)."""
    children = {name: make(table) for name, table in config.child_tables()}
    return JoinedReader(master, config, children, max_rows=settings.INGEST_JOIN_MAX_ROWS)


SAMPLE_KEYS = 200  # documents per IN (...) of a sample's child query


def join_sample(
    records: list[RawRecord], config: JoinConfig, make: Callable[[ChildTable], Reader]
) -> tuple[list[RawRecord], list[dict]]:
    """A master sample joined with its documents' parties and legals: (the joined records, the refused documents
    with their reasons); SourceError when a child table cannot be read."""
    keys = sorted({str(r.attributes[config.key]).strip() for r in records if _key(r, config.key)})[:SAMPLE_KEYS]
    children = {}
    for name, table in config.child_tables():
        listed = ", ".join("'" + key.replace("'", "''") + "'" for key in keys) or "''"
        where = f"{table.key} IN ({listed})"
        children[name] = make(replace(table, where=f"({table.where}) AND {where}" if table.where else where))
    reader = JoinedReader([Page(1, records=records)], config, children, max_rows=settings.INGEST_JOIN_MAX_ROWS)  # type: ignore[arg-type]
    joined, refused = [], []
    for page in reader:
        joined += page.records
        refused += [r for r in page.rejected if not r["record"].startswith(("party ", "legal "))]
    return joined, refused
