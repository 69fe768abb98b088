"""How the fields of one ingestion run read: per target field the records where it was filled, blank, a null
sentinel or bad, with the first few problems in the user's words; and the records' points ("location").

Counts come as flag strings (FieldMapping.read's letters plus one for the point), one per record, so identical
patterns (most records of a source read alike) are counted once; a record skipped as unchanged adds the flags it
had last time.
"""

from __future__ import annotations

from collections import Counter

from .mapping import BAD, BLANK, FILLED, SENTINEL

LOCATION = "location"
NOT_COUNTED = "-"  # the point of a record that failed before it was placed
EXAMPLES = 5
_KEYS = {FILLED: "filled", BLANK: "blank", SENTINEL: "sentinel", BAD: "bad"}


class FieldStats:
    def __init__(self, targets: tuple[str, ...]):
        self.targets = (*targets, LOCATION)
        self._patterns: Counter[str] = Counter()
        self._examples: dict[str, list[str]] = {}

    def add(self, flags: str, count: int = 1) -> None:
        """Count `count` records whose fields read as `flags` (one letter per target, the point last)."""
        self._patterns[flags] += count

    def example(self, target: str, record_id: str, text: str) -> None:
        examples = self._examples.setdefault(target, [])
        if len(examples) < EXAMPLES:
            examples.append(f"record {record_id}: {text}")

    def wants_examples(self, target: str) -> bool:
        return len(self._examples.get(target, ())) < EXAMPLES

    def as_json(self) -> dict[str, dict]:
        """{"<target>": {"filled", "blank", "sentinel", "bad", "examples"}}; flags of another mapping are skipped."""
        out = {t: {"filled": 0, "blank": 0, "sentinel": 0, "bad": 0, "examples": []} for t in self.targets}
        width = len(self.targets)
        for flags, count in self._patterns.items():
            if len(flags) != width:
                continue
            for target, flag in zip(self.targets, flags, strict=True):
                key = _KEYS.get(flag)
                if key:
                    out[target][key] += count
        for target, examples in self._examples.items():
            out[target]["examples"] = examples
        return out
