"""Mail piece content: HTML templates with merge fields, checked when saved and filled in per lead.

A template is HTML with `{{ field }}` placeholders and nothing else: no tags, filters or expressions, so a template
a broker writes never runs code, and a typo is an error when the template is saved, not a blank on 2,000 postcards.
Values are HTML-escaped, `{` and `}` included (Lob reads `{{...}}` in HTML as its own merge variables, so an owner
named "{{x}}" would break the piece), and a multi-line value (the return address) keeps its lines.

Fields (MERGE_FIELDS): `owner_name` (as recorded, e.g. "SMITH JOHN A"), `property_address` (street line),
`property_city` ("ORLANDO, FL 32801"), `offer_low`, `offer_high`, `offer_range` (from the lead's MAO, see
offer_range(): "$121,000 - $135,000"), `return_address` (several lines), `sender_name`, `sender_phone`.

How to integrate
----------------
- The campaign model stores `piece_kind` (PieceKind values as choices) and one template per side
  (`PieceKind.sides`: front and back for postcards, file for letters); its `clean()` raises
  `ValidationError({side: template_problems(html)})` for any side with problems, so unknown merge fields are reported
  when the template is saved, with their line numbers.
- The admin preview renders with SAMPLE_FIELDS; the send service builds `MergeValues` from the lead (owner name and
  mailing address, property address, `offer_range(lead.mao)`) and the campaign (return address, sender), and calls
  `render_piece()`. A MissingMergeValue skips that lead with its message as the reason (e.g. no MAO yet).
"""

from __future__ import annotations

import enum
import html as html_lib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

HTML_MAX = 10_000  # Lob's limit for inline HTML per side
MERGE_FIELDS = {
    "owner_name": "the owner as recorded",
    "property_address": "the property's street line",
    "property_city": "the property's city, state and ZIP",
    "offer_low": "the low end of the offer range",
    "offer_high": "the high end of the offer range",
    "offer_range": "the offer range, low - high",
    "return_address": "the campaign's return address (several lines)",
    "sender_name": "who signs the piece",
    "sender_phone": "the number to call back",
}
SAMPLE_FIELDS = {
    "owner_name": "SMITH JOHN A",
    "property_address": "123 MAIN ST",
    "property_city": "ORLANDO, FL 32801",
    "offer_low": "$121,000",
    "offer_high": "$135,000",
    "offer_range": "$121,000 - $135,000",
    "return_address": "Acme Home Buyers\n1 South St\nOrlando, FL 32801",
    "sender_name": "Alex at Acme Home Buyers",
    "sender_phone": "(407) 555-0100",
}
_MISSING = {
    "owner_name": "the owner's name is not recorded",
    "property_address": "the property has no street address",
    "property_city": "the property has no city, state or ZIP",
    "offer_low": "the lead has no MAO yet (ARV and repairs are needed)",
    "offer_high": "the lead has no MAO yet (ARV and repairs are needed)",
    "offer_range": "the lead has no MAO yet (ARV and repairs are needed)",
    "return_address": "the campaign has no return address",
    "sender_name": "the campaign does not say who signs",
    "sender_phone": "the campaign has no call-back number",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class PieceKind(enum.StrEnum):
    POSTCARD_4X6 = "postcard_4x6"
    POSTCARD_6X9 = "postcard_6x9"
    LETTER = "letter"

    @property
    def label(self) -> str:
        return {"postcard_4x6": "Postcard 4x6", "postcard_6x9": "Postcard 6x9", "letter": "Letter"}[self.value]

    @property
    def sides(self) -> tuple[str, ...]:
        return ("file",) if self is PieceKind.LETTER else ("front", "back")

    @property
    def lob_size(self) -> str:
        """Lob's postcard `size` ("4x6", "6x9"); empty for a letter."""
        return self.value.removeprefix("postcard_") if self is not PieceKind.LETTER else ""


class MissingMergeValue(ValueError):
    """A template uses a field this lead or campaign has no value for; the message says which and why."""


def _line(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def template_problems(html: str) -> list[str]:
    """What is wrong with a template, one message per problem (with its line); empty when it can be used."""
    if not html.strip():
        return ["the template is empty"]
    problems = []
    if "<" not in html:
        problems.append("no HTML tag: Lob prints HTML (start with <html> or a <div>)")
    if len(html) > HTML_MAX:
        problems.append(f"{len(html):,} characters; Lob takes at most {HTML_MAX:,} per side")
    known = ", ".join(MERGE_FIELDS)
    for match in _PLACEHOLDER.finditer(html):
        if match.group(1) not in MERGE_FIELDS:
            problems.append(f"line {_line(html, match.start())}: unknown merge field {match.group(0)} (known: {known})")
    triple = html.find("{{{")
    if triple >= 0:
        problems.append(f"line {_line(html, triple)}: triple braces are not supported; write {{{{ owner_name }}}}")
    rest = _PLACEHOLDER.sub(lambda match: "\n" * match.group(0).count("\n"), html)  # keeps the line numbers
    for marker, why in (
        ("{{", "is not a merge field like {{ owner_name }}"),
        ("{%", "template tags are not supported"),
    ):
        start = rest.find(marker)
        if start >= 0 and not (marker == "{{" and triple >= 0):  # triple braces are reported once, above
            problems.append(f"line {_line(rest, start)}: {rest[start : start + 30]!r} {why}")
    return problems


def template_fields(html: str) -> set[str]:
    """The merge fields a template uses."""
    return {match.group(1) for match in _PLACEHOLDER.finditer(html)}


def _escape(value: str) -> str:
    escaped = html_lib.escape(value, quote=True).replace("{", "&#123;").replace("}", "&#125;")
    return "<br>".join(escaped.splitlines())


def render(html: str, fields: Mapping[str, str | None]) -> str:
    """The template with every placeholder replaced by its escaped value.

    Raises ValueError for a template with problems and MissingMergeValue when a field it uses has no value.
    """
    problems = template_problems(html)
    if problems:
        raise ValueError("; ".join(problems))
    missing = sorted(name for name in template_fields(html) if not (fields.get(name) or "").strip())
    if missing:
        raise MissingMergeValue("; ".join(f"{{{{ {name} }}}}: {_MISSING[name]}" for name in missing))
    return _PLACEHOLDER.sub(lambda match: _escape(str(fields[match.group(1)])), html)


def render_piece(kind: PieceKind, templates: Mapping[str, str], fields: Mapping[str, str | None]) -> dict[str, str]:
    """Each side of a piece of `kind` rendered ({"front", "back"} or {"file"}), each within Lob's size limit."""
    rendered = {}
    for side in kind.sides:
        if not (templates.get(side) or "").strip():
            raise ValueError(f"the {kind.label.lower()} has no {side} template")
        rendered[side] = render(templates[side], fields)
        if len(rendered[side]) > HTML_MAX:
            raise ValueError(f"the {side} is {len(rendered[side]):,} characters once filled in; Lob takes {HTML_MAX:,}")
    return rendered


def money(amount: Decimal) -> str:
    return f"${amount:,.0f}"


def offer_range(
    mao: Decimal | None, *, low_ratio: Decimal = Decimal("0.90"), step: Decimal = Decimal(1000)
) -> tuple[Decimal, Decimal] | None:
    """The offer range a piece quotes: from `low_ratio` x MAO to MAO, each rounded down to `step` (never above MAO).

    None when there is no MAO, or it is below one `step` (nothing sensible to quote).
    """
    if mao is None or mao < step:
        return None
    high = (mao / step).to_integral_value(ROUND_FLOOR) * step
    low = (mao * low_ratio / step).to_integral_value(ROUND_FLOOR) * step
    return low, high


@dataclass(frozen=True)
class MergeValues:
    owner_name: str = ""
    property_address: str = ""
    property_city: str = ""
    offer: tuple[Decimal, Decimal] | None = None  # offer_range(lead.mao)
    return_address: str = ""
    sender_name: str = ""
    sender_phone: str = ""

    def fields(self) -> dict[str, str | None]:
        low, high = self.offer if self.offer else (None, None)
        return {
            "owner_name": self.owner_name,
            "property_address": self.property_address,
            "property_city": self.property_city,
            "offer_low": money(low) if low is not None else None,
            "offer_high": money(high) if high is not None else None,
            "offer_range": f"{money(low)} - {money(high)}" if self.offer else None,
            "return_address": self.return_address,
            "sender_name": self.sender_name,
            "sender_phone": self.sender_phone,
        }
