"""The recorded-format answers under tests/fixtures/lob and tests/fixtures/batchdata (see the README in each)."""

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LOB = FIXTURES / "lob"
BATCHDATA = FIXTURES / "batchdata"


def lob(name: str) -> dict:
    return json.loads((LOB / name).read_text())


def batchdata(name: str) -> dict:
    return json.loads((BATCHDATA / name).read_text())
