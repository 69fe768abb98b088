from decimal import Decimal

import pytest

from sync.mail_pieces import (
    MERGE_FIELDS,
    SAMPLE_FIELDS,
    MergeValues,
    MissingMergeValue,
    PieceKind,
    offer_range,
    render,
    render_piece,
    template_fields,
    template_problems,
)

FULL = "<html><body>" + " ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS) + "</body></html>"


def test_a_template_using_every_field_has_no_problems_and_renders_with_the_samples():
    assert set(SAMPLE_FIELDS) == set(MERGE_FIELDS)
    assert template_problems(FULL) == []
    assert template_fields(FULL) == set(MERGE_FIELDS)
    rendered = render(FULL, SAMPLE_FIELDS)
    assert "SMITH JOHN A 123 MAIN ST ORLANDO, FL 32801 $121,000 $135,000 $121,000 - $135,000" in rendered
    assert "Acme Home Buyers<br>1 South St<br>Orlando, FL 32801" in rendered


def test_unknown_fields_are_reported_with_their_line_and_the_known_names():
    html = "<html>\n<p>Hi {{ owner_name }}</p>\n<p>{{ owner_nmae }} {{offer}}</p>\n</html>"
    known = ", ".join(MERGE_FIELDS)
    assert template_problems(html) == [
        f"line 3: unknown merge field {{{{ owner_nmae }}}} (known: {known})",
        f"line 3: unknown merge field {{{{offer}}}} (known: {known})",
    ]


@pytest.mark.parametrize(
    ("html", "problems"),
    [
        ("", ["the template is empty"]),
        ("Dear {{ owner_name }}", ["no HTML tag: Lob prints HTML (start with <html> or a <div>)"]),
        ("<p>" + "x" * 10_000 + "</p>", ["10,007 characters; Lob takes at most 10,000 per side"]),
        (
            "<p>\n{{ owner_name|upper }}</p>",
            ["line 2: '{{ owner_name|upper }}</p>' is not a merge field like {{ owner_name }}"],
        ),
        ("<p>{% if x %}yes{% endif %}</p>", ["line 1: '{% if x %}yes{% endif %}</p>' template tags are not supported"]),
        ("<p>{{ owner_name }\n}</p>", ["line 1: '{{ owner_name }\\n}</p>' is not a merge field like {{ owner_name }}"]),
        (
            "<p>\n\n{{{ owner_name }}}</p>",
            ["line 3: triple braces are not supported; write {{ owner_name }}"],
        ),
    ],
)
def test_templates_that_would_print_wrong_are_refused_with_the_reason(html, problems):
    assert template_problems(html) == problems


def test_placeholders_may_span_lines_and_the_line_numbers_still_hold():
    html = "<p>{{\n owner_name\n}}</p>\n<p>{{ nope }}</p>\n{{ bad"
    assert template_problems(html) == [
        f"line 4: unknown merge field {{{{ nope }}}} (known: {', '.join(MERGE_FIELDS)})",
        "line 5: '{{ bad' is not a merge field like {{ owner_name }}",
    ]


def test_values_are_escaped_so_owner_data_cannot_inject_html_or_lob_merge_variables():
    fields = {**SAMPLE_FIELDS, "owner_name": '<script>alert(1)</script> "O\'NEIL" & {{x}}'}
    assert render("<h1>{{owner_name}}</h1>", fields) == (
        "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &quot;O&#x27;NEIL&quot; &amp; &#123;&#123;x&#125;&#125;</h1>"
    )


def test_a_missing_value_names_the_field_and_why():
    fields = MergeValues(owner_name="SMITH JOHN A", property_address="123 MAIN ST").fields()
    with pytest.raises(MissingMergeValue) as caught:
        render("<p>{{ offer_range }} {{ owner_name }} {{ return_address }}</p>", fields)
    assert str(caught.value) == (
        "{{ offer_range }}: the lead has no MAO yet (ARV and repairs are needed); "
        "{{ return_address }}: the campaign has no return address"
    )


def test_render_refuses_a_template_with_problems():
    with pytest.raises(ValueError, match="unknown merge field"):
        render("<p>{{ nope }}</p>", SAMPLE_FIELDS)


def test_a_postcard_renders_front_and_back_and_a_letter_its_file():
    postcard = render_piece(
        PieceKind.POSTCARD_6X9, {"front": "<b>{{ owner_name }}</b>", "back": "<i>hi</i>"}, SAMPLE_FIELDS
    )
    letter = render_piece(PieceKind.LETTER, {"file": "<p>{{ offer_high }}</p>", "front": "ignored"}, SAMPLE_FIELDS)
    assert postcard == {"front": "<b>SMITH JOHN A</b>", "back": "<i>hi</i>"}
    assert letter == {"file": "<p>$135,000</p>"}


def test_a_piece_missing_a_side_or_too_long_once_filled_is_refused():
    with pytest.raises(ValueError, match="the postcard 4x6 has no back template"):
        render_piece(PieceKind.POSTCARD_4X6, {"front": "<p>a</p>"}, SAMPLE_FIELDS)
    long_name = {**SAMPLE_FIELDS, "owner_name": "&" * 2_000}  # each & becomes &amp;
    with pytest.raises(ValueError, match="the file is 12,004 characters once filled in; Lob takes 10,000"):
        render_piece(PieceKind.LETTER, {"file": "<p>" + "x" * 1_997 + "{{owner_name}}</p>"}, long_name)


@pytest.mark.parametrize(
    ("mao", "expected"),
    [
        (Decimal("135000"), (Decimal("121000"), Decimal("135000"))),
        (Decimal("135999.99"), (Decimal("122000"), Decimal("135000"))),
        (Decimal("1000"), (Decimal("0"), Decimal("1000"))),
        (Decimal("999.99"), None),
        (Decimal("-5000"), None),
        (None, None),
    ],
)
def test_the_offer_range_never_quotes_above_the_mao(mao, expected):
    assert offer_range(mao) == expected


def test_offer_range_ratio_and_step_are_settings():
    assert offer_range(Decimal("87650"), low_ratio=Decimal("0.8"), step=Decimal("500")) == (
        Decimal("70000"),
        Decimal("87500"),
    )


def test_merge_values_format_money_and_leave_missing_values_empty():
    fields = MergeValues(owner_name="SMITH JOHN A", offer=(Decimal("121000"), Decimal("1350000"))).fields()
    assert (fields["offer_low"], fields["offer_high"], fields["offer_range"]) == (
        "$121,000",
        "$1,350,000",
        "$121,000 - $1,350,000",
    )
    assert MergeValues().fields()["offer_range"] is None


def test_piece_kinds_know_their_sides_and_lob_size():
    assert [(k.value, k.label, k.sides, k.lob_size) for k in PieceKind] == [
        ("postcard_4x6", "Postcard 4x6", ("front", "back"), "4x6"),
        ("postcard_6x9", "Postcard 6x9", ("front", "back"), "6x9"),
        ("letter", "Letter", ("file",), ""),
    ]
