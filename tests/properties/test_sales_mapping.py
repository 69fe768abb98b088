"""The sales dataset's mapping: its targets, its required document id and the per-source arms-length parameters."""

import pytest

from properties.ingest.mapping import FieldMapping, MappingError

BASE = {"parcel_id": "PIN", "document_id": "DOC_NO"}


def test_a_sales_mapping_needs_the_document_id():
    with pytest.raises(MappingError, match="the sales mapping must map 'document_id'"):
        FieldMapping.from_config("sales", {"parcel_id": "PIN"})


def test_a_sales_mapping_takes_the_sale_targets_and_its_rules():
    config = {**BASE, "sale_price": "PRICE", "grantee": "BUYER", "mortgage_amount": "MTG",
              "sale_rules": {"nominal_price_floor": 500, "vocabulary": {"TD": "foreclosure"}}}  # fmt: skip
    mapping = FieldMapping.from_config("sales", config)
    assert mapping.targets == ("parcel_id", "document_id", "sale_price", "grantee", "mortgage_amount")


@pytest.mark.parametrize(
    ("dataset", "rules", "message"),
    [
        ("parcels", {"nominal_price_floor": 500}, "'sale_rules' belongs to a sales mapping, not to parcels"),
        ("sales", ["500"], "'sale_rules' must be a JSON object"),
        ("sales", {"vocabulary": {"TD": "sheriff"}}, "sale_rules: vocabulary kinds must be deed kinds"),
        ("sales", {"name_order": "backwards"}, "sale_rules: name_order must be one of"),
        ("sales", {"nominal_price_floor": "lots"}, "sale_rules: "),
    ],
)
def test_bad_sale_rules_are_refused_before_anything_is_fetched(dataset, rules, message):
    with pytest.raises(MappingError, match=message):
        FieldMapping.from_config(dataset, {**BASE, "sale_rules": rules})
