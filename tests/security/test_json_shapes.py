import pytest
from django.core.exceptions import ValidationError

from buyers.models import Buyer
from dealfinder.common.validators import validate_string_list
from leads.models import ScoringProfile


def message(value, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_string_list(value, **kwargs)
    (text,) = caught.value.messages
    return text


def test_a_list_of_strings_passes():
    assert validate_string_list(["cash-buyer", "vip"]) == ["cash-buyer", "vip"]
    assert validate_string_list([]) == []
    assert validate_string_list(["sfr"], choices=[("sfr", "Single family"), ("multi", "Multi-family")]) == ["sfr"]


def test_wrong_shapes_have_clear_errors():
    assert message({"tags": ["a"]}) == 'Must be a list of strings, e.g. ["a", "b"], not dict.'
    assert message("sfr,multi") == 'Must be a list of strings, e.g. ["a", "b"], not str.'
    assert message(["ok", 3]) == "Item 3 is not a non-empty string."
    assert message(["ok", " "]) == "Item ' ' is not a non-empty string."
    assert message(["ok", ["nested"]]) == "Item ['nested'] is not a non-empty string."
    assert message(["x"] * 3, max_items=2) == "At most 2 items."
    assert message(["x" * 101]) == "Item 'xxxxxxxxxxxxxxxxxxxx…' is longer than 100 characters."
    assert message(["condo", "castle"], choices=["sfr", "condo"]) == "Unknown value 'castle'; allowed: condo, sfr."


@pytest.mark.django_db  # full_clean checks the unique GoHighLevel contact id
def test_buyer_list_fields_are_validated_on_clean():
    buyer = Buyer(
        first_name="Ana",
        tags="vip",
        property_types=["sfr", "castle"],
        target_zips=["32805", "3280"],
        strategies=["flip", "hold"],
    )

    with pytest.raises(ValidationError) as caught:
        buyer.full_clean()

    assert caught.value.message_dict == {
        "tags": ['Must be a list of strings, e.g. ["a", "b"], not str.'],
        "property_types": [
            "Unknown value 'castle'; allowed: commercial, condo, land, mobile, multi, other, sfr, townhouse."
        ],
        "target_zips": ["Zips are 5 digits, e.g. 32805."],
        "strategies": ["Unknown value 'hold'; allowed: brrrr, flip, rental."],
    }
    Buyer(first_name="Ana", tags=["vip"], property_types=["sfr"], target_zips=["32805"], strategies=["flip"]).clean()


def test_scoring_profile_parameters_are_validated_on_clean():
    profile = ScoringProfile(
        name="Bad",
        parameters={
            "tax_sale_points": "16",
            "event_points": [[30, 10], [60]],
            "value_band": [75000],
            "target_zips": ["32805", 7],
            "repair_base_per_sqft": 18.5,
            "tier_a_min": 80,
            "bonus": 1,
        },
    )

    with pytest.raises(ValidationError) as caught:
        profile.clean()

    assert caught.value.message_dict == {
        "parameters": [
            "tax_sale_points: must be a number >= 0",
            "event_points: must be a list of [threshold, points] pairs, e.g. [[30, 10], [60, 7]]",
            "value_band: must be a list of 2 numbers, e.g. [75000, 400000]",
            'target_zips: must be a list of strings, e.g. ["32805"]',
            "tier_a_min: unknown rule parameter",
            "bonus: unknown rule parameter",
        ]
    }
    ScoringProfile(name="Good", parameters={"event_points": [[30, 12]], "repair_base_per_sqft": 18.5}).clean()
    with pytest.raises(ValidationError):
        ScoringProfile(name="List", parameters=[]).clean()
