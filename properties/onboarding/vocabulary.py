"""The names counties, cities and vendors give each DealFinder target field, and the kind of values it holds.

Names are compared as their letters and digits in upper case (`SITUS_CITY`, `situsCity` and `Situs City` are all
`SITUSCITY`). Each rule is a regular expression matched against the whole name, with how sure a match makes us.
Collected from real layers and exports: Esri's parcel model (PARCELID, OWNERNME1, SITEADDRESS, PSTLADDRESS),
Florida appraisers (PARCEL, NAME1, SITUS, DOR_CODE, JV), Texas CADs (PROP_ID, GEO_ID, file_as_name, situs_*),
Michigan (PNUM, SEV, TAXABLE), Pennsylvania (PARID, PROPERTYHOUSENUM, CHANGENOTICEADDRESS1), Philadelphia
(OPA_NUMBER), Baltimore and San Francisco (BLOCKLOT), New York (SBL, PRINT_KEY), MLS and portal exports.
Pure data and one function.
"""

from __future__ import annotations

import re

# Prefixes that make an address column the owner's mailing address rather than the property's.
MAILING = r"(?:MAIL(?:ING)?|PSTL|OWN(?:ER)?|TAXPAYER|TXPYR|BILL(?:ING)?|CHANGENOTICE|ADDR(?:ESS)?LINE)"
SITUS = r"(?:SITUS|SITE|PROP(?:ERTY)?|LOC(?:ATION)?|PHY(?:SICAL|S)?|PREMISE|PARCEL|PA)"

# target -> (value kind, [(name pattern, confidence)]).
RULES: dict[str, tuple[str, list[tuple[str, float]]]] = {
    "parcel_id": (
        "id",
        [
            (r"(?:USER)?(?:PARCEL|PARCELID|PARCELNO|PARCELNUM|PARCELNUMB|PARCELNUMBER|PARCELNBR|PARCELNUMBR)", 0.95),
            (r"PIN|PIN1[04]|PINNUM|PINNO|PARID|PARCELPIN|APN|APND|ASSESSORPARCELNUMBER|AIN|PARNO|PARCELNMBR", 0.95),
            (
                r"OPANUMBER|OPAACCOUNTNUM|BLOCKLOT|BLKLOT|MAPBLOCKLOT|MAPTAXLOT|TAXLOT|SBL|SWISSBL|PRINTKEY|GPIN|TMS",
                0.9,
            ),
            (r"FOLIO|FOLIONUMBER|FOLIONO|STRAP|PCN|TAXKEY|TAXPARCELID|TAXID|TAXIDNUMBER|PNUM|LOWPARCELID|UPI", 0.9),
            (r"GEOID|PROPID|PROPERTYID|PROPERTYNUMBER|ACCOUNT|ACCOUNTNUMBER|ACCOUNTNO|ACCTNUM|ACCTNO|PPN|PID", 0.7),
            (r"\w*PARCEL\w*", 0.6),
        ],
    ),
    "street": (
        "address",
        [
            (rf"{SITUS}(?:ADDR(?:ESS)?|ADD|ADR)1?|SITUS|SITUSDISPLAY|SITUSFULL|FULLSITUS|SITUSLINE1", 0.95),
            (r"FULLADDR(?:ESS)?|STREETADDRESS|PHYSICALADDRESS|PREMISEADDRESS|LOCATIONADDRESS|SITEADDRESSFULL", 0.9),
            (r"ADDRESS|ADDR|ADDRESS1|FULLADDRESS1|LOCATION|PROPERTYLOCATION|SITELOCATION", 0.7),
        ],
    ),
    "unit": ("text", [(rf"(?:{SITUS})?(?:UNIT|UNITNUM|UNITNO|APT|APTNO|SUITE)", 0.85)]),
    "city": (
        "city",
        [
            (rf"{SITUS}CITY|{SITUS}ADDRESSCITY|{SITUS}ADDCITY|SITUSCTY|CITYNAME|POSTALCITY|PHYCITY", 0.95),
            (r"CITY", 0.7),
            (r"MUNICIPALITY|TOWN|MUNI|MUNIDESC|JURISDICTION", 0.45),
        ],
    ),
    "state": ("state", [(rf"{SITUS}STATE|{SITUS}ST", 0.95), (r"STATE|STATECODE|ST", 0.7)]),
    "zip": (
        "zip",
        [
            (rf"{SITUS}ZIP(?:CODE|5)?|{SITUS}POSTALCODE", 0.95),
            (r"ZIP|ZIPCODE|ZIP5|ZIPCD|POSTAL|POSTALCODE|POSTCODE", 0.8),
        ],
    ),
    "county": ("text", [(r"COUNTY|COUNTYNAME|CNTY|CNTYNAME", 0.8)]),
    "owner_name": (
        "name",
        [
            (r"OWNER|OWNERNAME|OWNERNAME1|OWNERNME1|OWNER1|OWNNAME|OWNNAME1|OWN1|OWNERS|OWNR|OWNRNAME|NAME1", 0.95),
            (
                r"TAXPAYER|TAXPAYERNAME|TAXPAYER1|FILEASNAME|DEEDHOLDER|DEEDNAME|CURRENTOWNER|OWNERFULLNAME|OWNERNM1",
                0.9,
            ),
            (r"GRANTEE|MAILNAME|MAILINGNAME|NAME", 0.55),
        ],
    ),
    "owner_mailing_address": (
        "address_line",
        [
            (rf"{MAILING}(?:FULL)?(?:ADDRESS|ADDR)(?:FULL|LINE)?|FULLMAILINGADDRESS|MAILINGADDRESSFULL", 0.5),
        ],
    ),
    "mailing_street": (
        "address",
        [
            (rf"{MAILING}(?:ADDR(?:ESS)?|ADD|ADR|ADDRS|STREET|STR)(?:1|LINE1)?|MAILADDRS|PSTLADDRESS", 0.95),
            (r"CHANGENOTICEADDRESS1|ADDRLINE[123]|MAILINGADDRESS[12]|OWNERADDRESS[12]|TAXPAYERADDRESS[12]", 0.8),
            (rf"{MAILING}(?:ADDR(?:ESS)?|ADD|STREET)[23]", 0.6),
        ],
    ),
    "mailing_city": ("city", [(rf"{MAILING}(?:CITY|CTY)|{MAILING}ADDRESSCITY|ADDRCITY|CHANGENOTICECITY", 0.95)]),
    "mailing_state": ("state", [(rf"{MAILING}(?:STATE|ST)|ADDRSTATE|CHANGENOTICESTATE", 0.95)]),
    "mailing_zip": ("zip", [(rf"{MAILING}(?:ZIP(?:CODE|5)?|POSTAL(?:CODE)?)|ADDRZIP|PSTLZIP5|CHANGENOTICEZIP", 0.95)]),
    "property_type": (
        "use",
        [
            (
                r"(?:LAND)?USE(?:CODE)?DESC(?:RIPTION)?|USEDSCRP|USEDESC|PROPERTYTYPE|PROPTYPE|PROPCLASSDESC|CLASSDESC",
                0.9,
            ),
            (r"DORCODE|DORUC|DORUSECODE|LANDUSE|LANDUSECODE|USECODE|LUC|PROPERTYCLASS|PROPCLASS|PROPERTYUSE", 0.75),
            (r"CLASS|CLASSCD|CLASSCODE|USE|STYLEDESC|BLDGTYPE|BUILDINGTYPE", 0.5),
        ],
    ),
    "beds": (
        "count",
        [(r"BEDS|BEDROOMS|BEDRMS|BEDRM|BED|NUMBEDS|NUMBEDROOMS|NOBEDROOMS|TOTBEDRMS|BEDROOMCOUNT|BR", 0.9)],
    ),
    "baths": (
        "count",
        [
            (r"BATHS|BATHROOMS|BATH|BATHRMS|NUMBATHS|TOTBATHS|TOTALBATHS|BATHSTOTAL|BATHROOMCOUNT|BA", 0.9),
            (r"FULLBATHS|FULLBATH|NOFULLBATHS", 0.7),
        ],
    ),
    "living_sqft": (
        "area",
        [
            (r"LIVINGAREA|LIVAREA|LIVINGSQFT|HEATEDAREA|HEATEDSQFT|RESFLRAREA|FINISHEDLIVINGAREA|TOTLIVAREA|SFLA", 0.9),
            (
                r"TOTALLIVINGAREA|LIVINGAREASQFT|GLA|BLDGSQFT|BLDGAREA|BUILDINGAREA|SQFT|SQFEET|FINISHEDAREA|TOTALSQFT",
                0.8,
            ),
            (r"GROSSAREA|AREA|BUILDINGSQFT", 0.45),
        ],
    ),
    "lot_sqft": (
        "area",
        [
            (r"LOTSQFT|LOTAREA|LANDSQFT|LANDAREA|LANDTOTALSQFT|LOTSF|LANDSF|LOTSIZESQFT|LANDSIZESQFT", 0.9),
            (r"LOTSIZE|LANDSIZE|LOTSQ", 0.65),
        ],
    ),
    "year_built": (
        "year",
        [
            (r"YEARBUILT|YRBUILT|YRBLT|YEARBLT|RESYRBLT|ACTYRBLT|ACTUALYEARBUILT|YEARBUILT1|YRBLTACT|BUILT", 0.95),
            (r"EFFYRBLT|EFFYEARBUILT|EFFECTIVEYEARBUILT", 0.5),
        ],
    ),
    "is_vacant": ("boolean", [(r"VACANT|ISVACANT|VACANCY|VACANTFLAG|VACANTIND", 0.8)]),
    "latitude": ("latitude", [(r"LAT|LATITUDE|LATDD|POINTY|YCOORD|GPSY|CENTROIDY|Y", 0.85)]),
    "longitude": ("longitude", [(r"LON|LONG|LNG|LONGITUDE|LONDD|POINTX|XCOORD|GPSX|CENTROIDX|X", 0.85)]),
    # valuations (parcels carry them too)
    "tax_year": (
        "year",
        [(r"TAXYEAR|TAXYR|ROLLYEAR|ASSESSMENTYEAR|ASMTYEAR|PROPVALYR|VALUEYEAR|TAXROLLYEAR", 0.9), (r"YEAR", 0.4)],
    ),
    "market_value": (
        "money",
        [
            (r"MARKETVALUE|MKTVALUE|MKTVAL|TOTALMKT|TOTMKT|JUSTVALUE|JUSTVAL|JV|FAIRMARKETTOTAL|FAIRMARKETVALUE", 0.95),
            (r"FMV|TOTALMARKETVALUE|MARKET|APPRAISEDVALUE|APPRVAL|APPRAISEDVAL|TOTALAPPRAISED|TOTAPPR", 0.8),
            (r"TOTALVALUE|TOTVALUE|TOTVAL|TOTALVAL", 0.65),
        ],
    ),
    "assessed_value": (
        "money",
        [
            (
                r"ASSESSEDVALUE|ASSDVAL|ASSESSED|TOTALASSD|TOTASSD|CNTASSDVAL|ASSESSEDVAL|TOTALASSESSED|ASMTTOTAL|AV",
                0.9,
            ),
            (r"TOTALAS|SEV|SEVTRIBUNAL1|COUNTYTOTAL|ASSDVALUE|TOTASSESS", 0.65),
        ],
    ),
    "taxable_value": ("money", [(r"TAXABLE|TAXABLEVALUE|TAXABLEVAL|TOTTXBL|NETTAXABLE|TAXABLETRIBUNAL1|TXBLVAL", 0.9)]),
    "annual_taxes": (
        "money",
        [
            (r"TAXES|TAXAMOUNT|TAXAMT|TOTALTAX|TOTALTAXES|ANNUALTAX|ANNUALTAXES|TAXBILL|TOTTAX|TAXLEVY", 0.85),
        ],
    ),
    "last_sale_price": (
        "money",
        [
            (r"SALEPRICE|SALEPRC|LASTSALEPRICE|SALEAMT|SALEAMOUNT|SLPRICE|SALESPRICE|SALEPRICE1|LASTSALEAMT", 0.95),
            (r"CONSIDERATION|DEEDPRICE|SALEVALUE", 0.7),
            (r"PRICE", 0.45),
        ],
    ),
    "last_sale_date": (
        "date",
        [
            (r"SALEDATE|SALEDT|LASTSALEDATE|SLDT|SALESDATE|SALEDATE1|DATESOLD|LASTSALEDT", 0.95),
            (r"DEEDDATE|DEEDDT|RECORDDATE|RECORDINGDATE|DATEDOC", 0.6),
        ],
    ),
    "tax_delinquent": ("boolean", [(r"DELINQUENT|DELQ|TAXDELINQUENT|ISDELINQUENT|DELINQFLAG|DELQFLAG", 0.85)]),
    "delinquent_amount": (
        "money",
        [
            (
                r"AMOUNTDUE|AMTDUE|BALANCEDUE|TOTALDUE|DELINQUENTAMOUNT|DELQAMT|DELINQAMT|TAXDUE|TOTALOWED|AMOUNTOWED",
                0.9,
            ),
            (r"BALANCE|PASTDUE|DELINQUENTTAXES|DELQTAX", 0.65),
        ],
    ),
    # tax sales
    "tda_number": (
        "id",
        [
            (
                r"TDA|TDANUM|TDANUMBER|TDANO|USERTDANUM|CERTIFICATE|CERTNUM|CERTIFICATENUMBER|CERTNO|SALENUMBER|SALENO",
                0.95,
            ),
            (r"APPLICATION|APPLICATIONNUMBER|APPNUM|AUCTIONID|ITEMNUMBER|ITEMNO|CASENUMBER|CASENO", 0.6),
        ],
    ),
    "sale_date": ("date", [(r"(?:USER)?SALEDATE|AUCTIONDATE|TAXSALEDATE|SALEDT", 0.9)]),
    "deed_status": ("text", [(r"(?:USER)?DEEDSTATUS|SALESTATUS|AUCTIONSTATUS", 0.9), (r"STATUS", 0.65)]),
    "opening_bid": (
        "money",
        [
            (r"OPENINGBID|OPENBID|MINBID|MINIMUMBID|STARTINGBID|OPENINGBIDAMOUNT|MINIMUMBIDAMOUNT|OPENINGBIDAMT", 0.95),
            (r"BID|BIDAMOUNT", 0.6),
        ],
    ),
    "source_updated_at": (
        "date",
        [
            (r"LASTEDITEDDATE|EDITDATE|LASTEDITDATE|UPDATEDAT|LASTUPDATE|LASTUPDATED|DATEUPDATED|MODIFIEDDATE", 0.75),
        ],
    ),
    # foreclosures
    "case_number": (
        "id",
        [
            (r"CASENUMBER|CASENO|CASENUM|CASEID|APNO|VIOLATIONID|VIOLATIONNUMBER|COMPLAINTNUMBER|DOCKETNUMBER", 0.95),
            (r"CASE|DOCKET|RECORDID|TICKETNUMBER|NUMBERKEY|PERMITNUMBER", 0.65),
        ],
    ),
    "borrower": ("name", [(r"DEFENDANT|DEFENDANTS|DEFENDANTNAME|BORROWER|BORROWERNAME|MORTGAGOR", 0.9)]),
    "lender": ("name", [(r"PLAINTIFF|PLAINTIFFNAME|LENDER|LENDERNAME|MORTGAGEE|BENEFICIARY", 0.9)]),
    "status": (
        "text",
        [(r"STATUS|CASESTATUS|CASEINFOSTATUS|VIOLATIONSTATUS|LISTINGSTATUS|MLSSTATUS|HOMESTATUS", 0.85)],
    ),
    "default_amount": (
        "money",
        [
            (r"JUDGMENTAMOUNT|JUDGEMENTAMOUNT|FINALJUDGMENT|FINALJUDGMENTAMOUNT|DEFAULTAMOUNT|JUDGMENT|DEBT", 0.9),
            (r"AMOUNT|LOANAMOUNT", 0.5),
        ],
    ),
    "filing_date": ("date", [(r"FILINGDATE|FILEDATE|FILED|DATEFILED|LISPENDENSDATE|LPDATE|RECORDEDDATE", 0.9)]),
    "auction_date": ("date", [(r"AUCTIONDATE|SCHEDULEDSALEDATE|SALESCHEDULED|SALEDATE", 0.8)]),
    # code violations
    "violation_type": (
        "text",
        [
            (
                r"CASETYPE|VIOLATIONTYPE|VIOLATION|VIOLATIONDESCRIPTION|VIOLATIONDESC|COMPLAINTTYPE|VIOLATIONCATEGORY",
                0.9,
            ),
            (r"VIOLATIONCODE|DESCRIPTION|TYPE|CATEGORY|SUBTYPEDESC", 0.45),
        ],
    ),
    "opened_at": (
        "date",
        [
            (r"CASEDT|OPENDATE|OPENED|DATEOPENED|CASEDATE|VIOLATIONDATE|COMPLAINTDATE|OPENEDDATE|CASEOPENDATE", 0.9),
            (r"CREATEDDATE|INSPECTIONDATE|ENTEREDDATE|RECEIVEDDATE|ISSUEDDATE|DATEFILED|REPORTEDDATE", 0.65),
        ],
    ),
    "closed_at": (
        "date",
        [
            (r"RESDT|CLOSEDDATE|CLOSEDATE|RESOLVEDDATE|DATECLOSED|COMPLIANCEDATE|CLOSED|CASECLOSEDATE", 0.9),
        ],
    ),
    # listings
    "list_price": (
        "money",
        [(r"LISTPRICE|ASKINGPRICE|LISTINGPRICE|CURRENTPRICE|UNFORMATTEDPRICE", 0.95), (r"PRICE", 0.7)],
    ),
    "days_on_market": ("count_days", [(r"DOM|CDOM|DAYSONMARKET|DAYSONZILLOW|DAYSLISTED", 0.9)]),
    "listed_at": ("date", [(r"LISTDATE|LISTINGDATE|LISTED|LISTINGCONTRACTDATE|ONMARKETDATE|DATELISTED", 0.9)]),
    "url": ("url", [(r"URL|LINK|LISTINGURL|DETAILURL|PROPERTYURL|HDPURL", 0.9)]),
    "previous_price": ("money", [(r"PREVIOUSPRICE|PRIORPRICE|ORIGINALLISTPRICE|ORIGINALPRICE", 0.75)]),
    "price_change": ("money", [(r"PRICECHANGE|PRICEREDUCTION", 0.8)]),
    "price_changed_at": ("date", [(r"PRICECHANGEDATE|PRICECHANGEDAT|DATEPRICECHANGED", 0.85)]),
}

# Parts of a situs address split over columns, in the order they are joined.
STREET_PARTS: tuple[tuple[str, str], ...] = (
    (
        "number",
        r"(?:SITUS|SITE|PROP(?:ERTY)?|PHY|LOC|ADDR(?:ESS)?|ST|STREET)?(?:HOUSE)?(?:NUM|NO|NUMBER|NBR)|HOUSENO|"
        r"HOUSENUM|HOUSENUMBER|ADRNUM|ADDRNUM|ADDRESSNUM|STNUM|STREETNUM|STREETNO|PROPERTYHOUSENUM|PHYSTNO|"
        r"PROPADDRESSNUMBER|SITENUMBER|SITUSNUM|SITUSHOUSENO|SITUSSTNUM",
    ),
    ("fraction", r"(?:PROPERTY|SITE)?FRACTION|NUMSFX|SITEFRAC|HOUSENUMSUFFIX"),
    ("predir", r"(?:SITUS|SITE)?(?:PRE)?DIR|PREDIR|FDPRE|SITUSSTREETPREFX|SITUSPREDIR|SITEPREF|STDIR|PREFIX"),
    ("name", r"(?:SITUS|SITE|PROP)?(?:STREET|STR|ST)(?:NAME|NM)?|STREETNAME|FNAME|PROPADDSTREET|PHYST|PROPERTYADDRESS"),
    ("type", r"(?:SITUS|SITE)?(?:STREET|ST)?(?:TYPE|SUFFIX|SUFIX|SFX)|FTYPE|SITUSSTREETSUFIX|STREETTYPE"),
    ("postdir", r"(?:SITUS|SITE)?(?:POST|SUF)DIR|FDSUF|POSTDIRECTION"),
)

# Words in a layer's or dataset's name that say which dataset it is.
DATASET_WORDS: dict[str, str] = {
    "tax_sales": r"TAX ?DEED|TAX ?SALE|TDA|CERTIFICATE|SHERIFF'?S? SALE|TAX AUCTION",
    "foreclosures": r"FORECLOS|LIS PENDENS|PRE-?FORECLOS|TRUSTEE SALE|NOTICE OF DEFAULT",
    "code_violations": r"CODE|VIOLATION|ENFORCEMENT|BLIGHT|NUISANCE|COMPLAINT",
    "listings": r"LISTING|MLS|ZILLOW|REALTOR|FOR SALE",
    "parcels": r"PARCEL|ASSESS|APPRAIS|CADASTR|PROPERTY|TAX ROLL|PROPERTIES",
}

_COMPILED = {target: (kind, [(re.compile(p), s) for p, s in rules]) for target, (kind, rules) in RULES.items()}
_PARTS = tuple((part, re.compile(p)) for part, p in STREET_PARTS)


def name_key(name: str) -> str:
    """`Situs City` -> `SITUSCITY`: letters and digits in upper case."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def name_score(target: str, name: str) -> float:
    """How sure the name alone makes us that the column holds `target` (0 when no rule matches)."""
    key = name_key(name)
    return max((score for pattern, score in _COMPILED[target][1] if pattern.fullmatch(key)), default=0.0)


def value_kind(target: str) -> str:
    return _COMPILED[target][0]


def street_part(name: str) -> str | None:
    key = name_key(name)
    return next((part for part, pattern in _PARTS if pattern.fullmatch(key)), None)


def is_mailing(name: str) -> bool:
    return re.match(MAILING, name_key(name)) is not None and not re.fullmatch(
        r"OWNER|OWNERNAME|OWNERNAME\d|OWNERNME\d|OWNER\d|OWNNAME\d?|OWN\d|OWNERS|OWNR|OWNRNAME", name_key(name)
    )
