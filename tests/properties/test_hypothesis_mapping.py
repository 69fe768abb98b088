"""Property-based tests of the field-mapping engine: never a crash, always a value or a clear error.

The contract ("clear" errors):
- `FieldMapping.from_config(dataset, config)` returns a mapping or raises `MappingError` (a ValueError whose
  message names the target field) for any JSON a broker can type into the admin;
- `FieldMapping.apply(record)` returns a dict of target values of the target field's Python type, or raises
  `RowError` (the reason recorded on the run) for any JSON attribute values a source can send.
Any other exception is a bug. Examples are derandomized and bounded so CI is repeatable and fast.
"""

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from properties.ingest.base import RawRecord
from properties.ingest.mapping import TARGETS, TRANSFORMS, FieldMapping, MappingError, RowError

CHECK = settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DATASETS = sorted(TARGETS)
ATTRS = ["A", "B", "C", "P", "K"]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["2026-03-08", "2026-03-08T02:30:00", "03/08/2026", "20260308", "1772953200000", "$1,234.50", "Y", "no"]
    ),
    st.sampled_from(["1e999999", "-0", "NaN", "Infinity", "99999999999999999999", "FL 32801", "FL,32801-1234"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
transform_names = st.one_of(
    st.sampled_from([*sorted(TRANSFORMS - {"rebase"}), "date:%Y%m%d", "date:%m/%d/%Y", "rebase:2026-01-01"]),
    st.text(max_size=10),
    json_scalars,
)
spec_dicts = st.fixed_dictionaries(
    {},
    optional={
        "source": st.one_of(st.sampled_from(ATTRS), json_scalars),
        "concat": st.one_of(st.lists(st.sampled_from(ATTRS), max_size=3), json_values),
        "sep": st.one_of(st.sampled_from([" ", ", ", ""]), json_scalars),
        "transform": st.one_of(transform_names, st.lists(transform_names, max_size=3)),
        "split": st.one_of(st.sampled_from(["state_zip", " ", ",", "-"]), json_scalars),
        "part": st.one_of(st.sampled_from(["state", "zip", 0, 1, -1, 5]), json_scalars),
        "value": json_scalars,
        "default": json_scalars,
    },
)
specs = st.one_of(st.sampled_from(ATTRS), spec_dicts, json_values)
valid_transforms = st.sampled_from(
    [*sorted(TRANSFORMS - {"rebase"}), "date:%Y%m%d", "date:%m/%d/%Y", "rebase:2026-01-01"]
)
valid_specs = st.one_of(
    st.sampled_from(ATTRS),
    st.builds(
        lambda source, transform, default: {"source": source, "transform": transform, "default": default},
        st.sampled_from(ATTRS),
        st.lists(valid_transforms, max_size=3),
        json_scalars,
    ),
    st.builds(
        lambda concat, sep: {"concat": concat, "sep": sep},
        st.lists(st.sampled_from(ATTRS), max_size=3),
        st.text(max_size=2),
    ),
    st.builds(lambda part: {"source": "A", "split": "state_zip", "part": part}, st.sampled_from(["state", "zip"])),
    st.builds(
        lambda sep, part: {"source": "A", "split": sep, "part": part},
        st.sampled_from([" ", ",", "-"]),
        st.integers(-3, 3),
    ),
    st.builds(lambda value: {"value": value}, json_scalars),
)


def any_target(dataset):
    return st.sampled_from(sorted(TARGETS[dataset]))


@st.composite
def configs(draw, valid=True):
    dataset = draw(st.sampled_from(DATASETS))
    keys = any_target(dataset) if valid else st.one_of(any_target(dataset), st.text(max_size=8))
    config = draw(st.dictionaries(keys, valid_specs if valid else specs, max_size=6))
    config.setdefault("parcel_id", "P")
    for key in ("tda_number", "case_number"):
        if key in TARGETS[dataset]:
            config.setdefault(key, "K")
    if not valid and draw(st.booleans()):
        config["preset"] = draw(st.one_of(st.sampled_from(["generic_csv", "zillow", "mls", "nope"]), json_scalars))
    return dataset, config


def _python_type_ok(field, value):
    kind = field.get_internal_type()
    expected = {
        "CharField": str,
        "TextField": str,
        "URLField": str,
        "SlugField": str,
        "BooleanField": bool,
        "DateField": dt.date,
        "DateTimeField": dt.datetime,
        "FloatField": float,
        "DecimalField": Decimal,
    }.get(kind, int)
    return value is None or isinstance(value, expected)


@CHECK
@given(dataset=st.one_of(st.sampled_from(DATASETS), st.text(max_size=8)), config=json_values)
def test_any_json_config_is_a_mapping_or_a_mapping_error(dataset, config):
    try:
        FieldMapping.from_config(dataset, config)
    except MappingError as exc:
        assert str(exc)


@CHECK
@given(case=configs(valid=False))
def test_generated_configs_are_a_mapping_or_a_mapping_error(case):
    dataset, config = case
    try:
        FieldMapping.from_config(dataset, config)
    except MappingError as exc:
        assert str(exc)


@CHECK
@given(case=configs(), attributes=st.dictionaries(st.sampled_from([*ATTRS, "a", "p"]), json_values, max_size=6))
def test_apply_gives_typed_values_or_a_row_error(case, attributes):
    dataset, config = case
    try:
        mapping = FieldMapping.from_config(dataset, config)
    except MappingError:
        assume(False)
        return
    try:
        row = mapping.apply(RawRecord("1", attributes))
    except RowError as exc:
        assert str(exc)
        return
    fields = TARGETS[dataset]
    assert row.get("parcel_id") is not None
    for target, value in row.items():
        assert _python_type_ok(fields[target], value), (target, value)
        if fields[target].get_internal_type() == "DecimalField" and value is not None:
            assert value.is_finite()


@CHECK
@given(
    value=json_values,
    target=st.sampled_from(sorted(TARGETS["listings"])),
    transform=st.lists(valid_transforms, max_size=3),
)
def test_every_target_type_with_any_value(value, target, transform):
    config = {"parcel_id": "P", target: {"source": "V", "transform": transform}}
    try:
        mapping = FieldMapping.from_config("listings", config)
    except MappingError:
        assume(False)
        return
    try:
        row = mapping.apply(RawRecord("1", {"P": "123", "V": value}))
    except RowError as exc:
        assert str(exc)
        return
    assert _python_type_ok(TARGETS["listings"][target], row[target])
