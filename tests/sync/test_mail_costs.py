from decimal import Decimal

import pytest

from sync.mail_costs import CostLine, estimate_send_cost, parse_unit_costs
from sync.mail_pieces import PieceKind

PRICES = "postcard_4x6=0.63, postcard_6x9=0.84, letter=1.05, verification=0.02"


def test_unit_costs_are_read_from_the_setting():
    costs = parse_unit_costs(PRICES)
    assert costs.per_kind == {
        PieceKind.POSTCARD_4X6: Decimal("0.63"),
        PieceKind.POSTCARD_6X9: Decimal("0.84"),
        PieceKind.LETTER: Decimal("1.05"),
    }
    assert costs.verification == Decimal("0.02")
    assert parse_unit_costs("").per_kind == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("postcard_4x6", "'postcard_4x6' is not name=price"),
        ("postcard=0.63", "unknown kind 'postcard' \\(known: postcard_4x6, postcard_6x9, letter, verification\\)"),
        ("letter=one dollar", "the price of letter is not a number \\('one dollar'\\)"),
        ("letter=-1", "the price of letter must be zero or more"),
        ("letter=NaN", "the price of letter must be zero or more"),
        ("letter=Infinity", "the price of letter must be zero or more"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_entry(text, message):
    with pytest.raises(ValueError, match=message):
        parse_unit_costs(text)


def test_a_send_costs_pieces_times_unit_cost_plus_verifications():
    estimate = estimate_send_cost(
        pieces={PieceKind.LETTER: 30, PieceKind.POSTCARD_4X6: 120, PieceKind.POSTCARD_6X9: 0},
        verifications=150,
        unit_costs=parse_unit_costs(PRICES),
    )
    assert estimate.lines == (
        CostLine("letter", 30, Decimal("1.05"), Decimal("31.50")),
        CostLine("postcard_4x6", 120, Decimal("0.63"), Decimal("75.60")),
        CostLine("verification", 150, Decimal("0.02"), Decimal("3.00")),
    )
    assert (estimate.total, estimate.unpriced) == (Decimal("110.10"), ())
    assert estimate.describe() == (
        "     30 x letter         at $1.05 = $31.50\n"
        "    120 x postcard_4x6   at $0.63 = $75.60\n"
        "    150 x verification   at $0.02 = $3.00\n"
        "estimated total $110.10"
    )


def test_an_unpriced_kind_makes_the_total_unknown_instead_of_a_guess():
    estimate = estimate_send_cost(
        pieces={PieceKind.POSTCARD_6X9: 2_500}, verifications=10, unit_costs=parse_unit_costs("letter=1.05")
    )
    assert (estimate.total, estimate.unpriced) == (None, ("postcard_6x9", "verification"))
    assert estimate.describe() == (
        "  2,500 x postcard_6x9   price unknown\n"
        "     10 x verification   price unknown\n"
        "estimated total unknown: set a price for postcard_6x9, verification in MAIL_UNIT_COSTS"
    )


def test_nothing_to_send_costs_nothing():
    estimate = estimate_send_cost(pieces={}, verifications=0, unit_costs=parse_unit_costs(""))
    assert (estimate.lines, estimate.total, estimate.describe()) == ((), Decimal(0), "estimated total $0.00")
