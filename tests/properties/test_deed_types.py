"""Recorders' deed vocabularies read as kinds (properties.deed_types; pure: no database)."""

import pytest

from properties.deed_types import COOK_COUNTY_DEED_CODES, DeedKind, deed_kind

K = DeedKind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Warranty-type conveyances, as recorders and appraisers write them.
        ("WD", K.CONVEYANCE),
        ("WARRANTY DEED", K.CONVEYANCE),
        ("Special Warranty Deed", K.CONVEYANCE),
        ("SWD", K.CONVEYANCE),
        ("GRANT DEED", K.CONVEYANCE),
        ("BARGAIN AND SALE", K.CONVEYANCE),
        ("B&S", K.CONVEYANCE),
        # Quitclaims, in every spelling.
        ("QCD", K.QUITCLAIM),
        ("QC", K.QUITCLAIM),
        ("QUIT CLAIM", K.QUITCLAIM),
        ("QUITCLAIM DEED", K.QUITCLAIM),
        ("DEED - QUITCLAIM", K.QUITCLAIM),
        ("quit-claim deed", K.QUITCLAIM),
        # Distressed: foreclosure, tax, in lieu.
        ("CERTIFICATE OF TITLE", K.FORECLOSURE),
        ("SHERIFF'S DEED", K.FORECLOSURE),
        ("SHERIFFS DEED", K.FORECLOSURE),
        ("TRUSTEE'S DEED UPON SALE", K.FORECLOSURE),
        ("SUBSTITUTE TRUSTEE'S DEED", K.FORECLOSURE),
        ("REFEREE'S DEED", K.FORECLOSURE),
        ("TAX DEED", K.TAX),
        ("TAX COLLECTOR'S DEED", K.TAX),
        ("DEED IN LIEU OF FORECLOSURE", K.DEED_IN_LIEU),
        # Fiduciary deeds are sales (a plain trustee's deed: land and living trusts).
        ("TRUSTEE'S DEED", K.FIDUCIARY),
        ("EXECUTOR'S DEED", K.FIDUCIARY),
        ("PERSONAL REPRESENTATIVE'S DEED", K.FIDUCIARY),
        # Not sales.
        ("CORRECTIVE WARRANTY DEED", K.CORRECTIVE),  # corrective before warranty
        ("GIFT DEED", K.NO_SALE),
        ("INTERSPOUSAL TRANSFER DEED", K.NO_SALE),
        ("DEED OF TRUST", K.NOT_A_DEED),  # a mortgage, not a trustee's deed
        ("MORTGAGE", K.NOT_A_DEED),
        # NYC ACRIS document types.
        ("DEED", K.CONVEYANCE),
        ("DEEDP", K.CONVEYANCE),
        ("DEED, RC", K.CONVEYANCE),
        ("DEEDO", K.UNKNOWN),  # "deed, other": unknown stays unknown
        ("CORRD", K.CORRECTIVE),
        ("CONDEED", K.CORRECTIVE),
        ("DEED, LE", K.NO_SALE),
        ("TODD", K.NO_SALE),
        ("DEED, TS", K.NON_MARKET),
        ("IDED", K.TAX),  # in rem
        ("RPTT", K.NOT_A_DEED),
        ("RPTT&RET", K.NOT_A_DEED),
        ("MTGE", K.NOT_A_DEED),
        # Cook County Assessor's words.
        ("Warranty", K.CONVEYANCE),
        ("Trustee", K.FIDUCIARY),
        ("Quit claim", K.QUITCLAIM),
        ("Executor", K.FIDUCIARY),
        ("Beneficiary", K.UNKNOWN),
        ("Other", K.UNKNOWN),
        ("Unknown", K.UNKNOWN),
        # Philadelphia's document types.
        ("DEED SHERIFF", K.FORECLOSURE),
        ("DEED LAND BANK", K.NON_MARKET),
        ("DEED OF CONDEMNATION", K.NON_MARKET),
        ("DEED - DECEASED", K.FIDUCIARY),
        ("DEED - ADVERSE POSSESSION", K.NO_SALE),
        ("DEED MISCELLANEOUS", K.UNKNOWN),
        ("MISCELLANEOUS DEED TAXABLE", K.UNKNOWN),
        ("DEED RTT - OTHER", K.UNKNOWN),
        # Nothing said.
        ("", K.UNKNOWN),
        (None, K.UNKNOWN),
        ("ZZ-17", K.UNKNOWN),
    ],
)
def test_deed_kind(text, kind):
    assert deed_kind(text) is kind


def test_numeric_codes_are_never_guessed_but_a_source_vocabulary_maps_them():
    assert deed_kind("03") is K.UNKNOWN
    assert deed_kind("03", COOK_COUNTY_DEED_CODES) is K.QUITCLAIM
    assert deed_kind("01", COOK_COUNTY_DEED_CODES) is K.CONVEYANCE


def test_a_deed_of_trust_state_maps_a_plain_trustees_deed_to_foreclosure():
    vocabulary = {"TRUSTEE'S DEED": "foreclosure"}
    assert deed_kind("Trustees Deed", vocabulary) is K.FORECLOSURE
    assert deed_kind("WARRANTY DEED", vocabulary) is K.CONVEYANCE
