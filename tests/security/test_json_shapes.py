import pytest
from django.core.exceptions import ValidationError

from dealfinder.security import validate_string_list


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
