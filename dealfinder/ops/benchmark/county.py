"""A synthetic county of N parcels, shaped like Orange County FL's public layers, with correlated distress.

Every parcel is a pure function of (seed, object id), so the layers are rendered page by page on demand and a
million parcels never sit in memory; only which parcels carry which distress record is decided up front (one
pass, `County.generate`). About 8% of parcels are "distressed" and collect several signals at once (tax-deed
sale, foreclosure, open code violations, absentee owner, a listing cut in price); the rest get them rarely, so
stacked signals look like a real county's instead of independent coin flips. About 5% of parcels carry a recorded
deed of the last 24 months (the `sales` layer, for comps and ARV).

`County.day` moves the county forward one night: a few parcels change hands or taxes and some listings cut
their price again, which is what the nightly pipeline sees on an ordinary day.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import random
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from multiprocessing.sharedctypes import RawArray
from typing import Any

# Orange County FL, roughly: most parcels cluster around Orlando, the rest spread over the county.
EXTENT = (-81.66, 28.35, -81.05, 28.79)  # min_lon, min_lat, max_lon, max_lat
CITY = (-81.379, 28.538)
CITY_EXTENT = (-81.42, 28.51, -81.34, 28.57)  # downtown Orlando, a "city zoom" viewport
ZIPS = [32801, 32803, 32804, 32805, 32806, 32807, 32808, 32809, 32810, 32811, 32812, 32814, 32817, 32818, 32819,
        32822, 32824, 32825, 32826, 32827, 32828, 32829, 32832, 32835, 32836, 32837, 32839, 34734, 34761, 34786,
        32703, 32709, 32712, 32751, 32789, 32792, 32820, 32821, 32830, 32833]  # fmt: skip
STREETS = ["ORANGE BLOSSOM", "COLONIAL", "MICHIGAN", "KALEY", "CONWAY", "SEMORAN", "PINE HILLS", "KIRKMAN",
           "HIAWASSEE", "CURRY FORD", "LAKE UNDERHILL", "EDGEWATER", "MAGUIRE", "PRINCETON", "VINELAND", "DELANEY",
           "LAKEMONT", "FERNCREEK", "BUMBY", "MILLS", "ROBINSON", "HOLDEN", "OAK RIDGE", "WASHINGTON", "ALOMA",
           "GOLDENROD", "DEAN", "ECONLOCKHATCHEE", "NARCOOSSEE", "APOPKA VINELAND"]  # fmt: skip
SUFFIXES = ["ST", "AVE", "DR", "BLVD", "RD", "CT", "LN", "WAY", "street", "avenue"]
FIRST = ["JAMES", "MARIA", "ROBERT", "LINDA", "MICHAEL", "BARBARA", "DAVID", "SUSAN", "CARLOS", "ANGELA", "KEVIN",
         "DENISE", "LUIS", "TAMARA", "GARY", "ROSA", "STEVEN", "PATRICIA", "ANDRE", "NANCY"]  # fmt: skip
LAST = ["SMITH", "JOHNSON", "RODRIGUEZ", "WILLIAMS", "BROWN", "GARCIA", "MILLER", "DAVIS", "MARTINEZ", "WILSON",
        "ANDERSON", "THOMAS", "JACKSON", "WHITE", "LOPEZ", "HARRIS", "CLARK", "LEWIS", "WALKER", "YOUNG"]  # fmt: skip
AWAY = [("1550 WOODWARD AVE", "DETROIT", "MI48226"), ("22 PARK PL", "NEW YORK", "NY10007"),
        ("PO BOX 9821", "ATLANTA", "GA30303"), ("700 BRICKELL AVE", "MIAMI", "FL33131"),
        ("415 N MAIN ST", "BYRON CENTER", "MI49315"), ("88 LAKE SHORE DR", "CHICAGO", "IL60611")]  # fmt: skip
USE_CODES = (("0101", 70), ("0400", 10), ("0800", 8), ("0200", 4), ("0000", 5), ("1100", 3))
HOME_TYPES = {"0101": "SINGLE_FAMILY", "0400": "CONDO", "0800": "MULTI_FAMILY", "0200": "MANUFACTURED"}
VIOLATIONS = ["Overgrown Lot", "Junk and Debris", "Unsafe Structure", "Boarded Building", "Illegal Dumping",
              "Roof Damage", "Pool Not Maintained", "Abandoned Vehicle"]  # fmt: skip
LENDERS = ["WELLS FARGO BANK NA", "NATIONSTAR MORTGAGE LLC", "U.S. BANK NATIONAL ASSOCIATION", "ROCKET MORTGAGE LLC",
           "FREEDOM MORTGAGE CORPORATION"]  # fmt: skip
BUYER_TYPES = ["sfr", "multi", "condo", "townhouse", "mobile", "land"]
STRATEGIES = ["flip", "rental", "brrrr"]

DISTRESSED_SHARE = 0.08
# layer -> (chance for a distressed parcel, chance for any other parcel)
CHANCES = {"tax_sales": (0.30, 0.004), "foreclosures": (0.25, 0.004), "code_violations": (0.45, 0.025),
           "listings": (0.12, 0.025), "sales": (0.04, 0.05)}  # fmt: skip
# Recorded deeds of the last 24 months (the `sales` layer): about 5% of parcels sold, one in ten of them twice
# (a flip); most are warranty deeds at about market value, the rest quitclaims for $10, foreclosure certificates
# of title and tax deeds, so the arms-length rules and the comps have something to drop.
RESALE_SHARE = 0.10
SALE_DEEDS = (("WD", 76), ("SWD", 8), ("QCD", 8), ("CT", 6), ("TD", 2))
_SALE_DEED_NAMES = [d for d, _ in SALE_DEEDS]
_SALE_DEED_WEIGHTS = list(itertools.accumulate(w for _, w in SALE_DEEDS))

# The distress layers carry editor tracking (EditDate, as hosted feature layers do); parcels and tax sales do not,
# so the benchmark measures both kinds of re-ingest.
EDIT_DATE_FIELD = "EditDate"
TRACKED_LAYERS = frozenset({"foreclosures", "code_violations", "listings", "sales"})

_USE_CODE_NAMES = [c for c, _ in USE_CODES]
_USE_CODE_WEIGHTS = list(itertools.accumulate(w for _, w in USE_CODES))


def epoch_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _display_parcel(oid: int, rng: random.Random) -> str:
    """SS-TT-RR-SSSS-BB-LLL, unique per object id (subdivision, block and lot encode it)."""
    section, township, range_ = rng.randint(1, 36), rng.choice((22, 23, 24)), rng.choice((27, 28, 29, 30, 31))
    subdivision, block, lot = (oid // 100_000) % 10_000, (oid // 1000) % 100, oid % 1000
    return f"{section:02d}-{township}-{range_}-{subdivision:04d}-{block:02d}-{lot:03d}"


def api_form(display: str) -> str:
    section, township, range_, *rest = display.split("-")
    return range_ + township + section + "".join(rest)


@dataclass
class Layer:
    """One ArcGIS layer of the county: its fields and a feature for each object id 1..count."""

    name: str
    dataset: str
    fields: list[tuple[str, str]]  # (name, esri type)
    count: int
    feature: Callable[[int], dict]
    geometry_type: str | None = "esriGeometryPoint"
    # Editor tracking (EDIT_DATE_FIELD): each feature's last edit, epoch ms; None: the layer has none.
    edit_date: Callable[[int], int] | None = None

    def features(self, ids: list[int]) -> list[dict]:
        rendered = [self.feature(i) for i in ids if 1 <= i <= self.count]
        if self.edit_date is not None:
            for f in rendered:
                f["attributes"][EDIT_DATE_FIELD] = self.edit_date(f["attributes"]["OBJECTID"])
        return rendered

    def all_fields(self) -> list[tuple[str, str]]:
        return [*self.fields, (EDIT_DATE_FIELD, "esriFieldTypeDate")] if self.edit_date else self.fields

    def last_edit(self) -> int | None:
        return max((self.edit_date(i) for i in range(1, self.count + 1)), default=None) if self.edit_date else None

    def edited_after(self, since_ms: int) -> list[int]:
        return [i for i in range(1, self.count + 1) if self.edit_date(i) > since_ms]


@dataclass
class County:
    parcels: int
    seed: int = 20260101
    today: dt.date = field(default_factory=dt.date.today)
    # Another county (the fan-out step's second one): its parcels' identities start after this many, so two
    # counties of the same seed never share a parcel id.
    parcel_offset: int = 0
    # which parcel each record of a distress layer belongs to (object id - 1 -> parcel object id)
    members: dict[str, array] = field(default_factory=dict)
    # The night: `day` (1, then 2: the next night, with a few changes and a day's deeds) and `edited_at` (when
    # the next night's changes were made, their EditDate; NaN: none yet), in memory shared with the server's process
    # (server.ArcGISCountyServer answers from a fork of this county, which sees the night move on).
    _night: Any = field(default_factory=lambda: RawArray("d", [1, math.nan]), repr=False, compare=False)

    @property
    def day(self) -> int:
        return int(self._night[0])

    @day.setter
    def day(self, value: int) -> None:
        self._night[0] = value

    @property
    def edited_at(self) -> dt.datetime | None:
        stamp = self._night[1]
        return None if math.isnan(stamp) else dt.datetime.fromtimestamp(stamp, tz=dt.UTC)

    @edited_at.setter
    def edited_at(self, value: dt.datetime | None) -> None:
        self._night[1] = math.nan if value is None else value.timestamp()

    # --- generation ------------------------------------------------------------------------
    def generate(self, progress: Callable[[int], None] | None = None) -> None:
        """Decide which parcels carry which distress records (one pass over the parcels)."""
        self.members = {name: array("l") for name in CHANCES}
        for oid in range(1, self.parcels + 1):
            rng = self._rng("flags", oid)
            distressed = rng.random() < DISTRESSED_SHARE
            for name, (hot, cold) in CHANCES.items():
                if rng.random() < (hot if distressed else cold):
                    self.members[name].append(oid)
                    if name == "code_violations" and rng.random() < (0.5 if distressed else 0.1):
                        self.members[name].append(oid)  # a second case on the same parcel
                    if name == "sales" and rng.random() < RESALE_SHARE:
                        self.members[name].append(oid)  # bought and resold within the 24 months
            if progress and oid % 10_000 == 0:
                progress(10_000)
        if progress:
            progress(self.parcels % 10_000)

    def _rng(self, kind: str, oid: int) -> random.Random:
        salt = {
            "flags": 1,
            "parcel": 2,
            "tax_sales": 3,
            "foreclosures": 4,
            "code_violations": 5,
            "listings": 6,
            "sales": 7,
        }[kind]
        return random.Random((self.seed * 16 + salt) * 10_000_019 + oid)  # noqa: S311 - fake data, not security

    def _change_today(self, kind: str, oid: int, share: float) -> random.Random | None:
        """On a later day, a random source for this record's overnight change (for `share` of them), else None."""
        if self.day <= 1:
            return None
        rng = random.Random((self.seed * 16 + self.day) * 20_000_003 + oid * 7 + len(kind))  # noqa: S311
        return rng if rng.random() < share else None

    @property
    def layers(self) -> list[Layer]:
        layers = [self.parcel_layer(), self.tax_sale_layer(), self.foreclosure_layer(), self.violation_layer(),
                  self.listing_layer(), self.sale_layer()]  # fmt: skip
        for layer in layers:
            if layer.dataset in TRACKED_LAYERS:
                layer.edit_date = functools.partial(self._edit_date, layer.dataset)
        return layers

    def _edit_date(self, kind: str, n: int) -> int:
        """A record's last edit: days before the first night, or when the next night's change was made."""
        if self.edited_at is not None and (
            (kind == "listings" and self._change_today("listings", n, 0.10))
            or (kind == "sales" and n > len(self.members["sales"]))
        ):
            return int(self.edited_at.timestamp() * 1000)
        return epoch_ms(self.today - dt.timedelta(days=1 + n % 60))

    @property
    def distress_records(self) -> int:
        return sum(len(ids) for ids in self.members.values())

    # --- parcels -------------------------------------------------------------------------------
    def parcel(self, oid: int) -> dict:
        rng = self._rng("parcel", oid + self.parcel_offset)
        flags = self._rng("flags", oid)
        distressed = flags.random() < DISTRESSED_SHARE
        if rng.random() < 0.6:
            lon, lat = rng.gauss(CITY[0], 0.07), rng.gauss(CITY[1], 0.05)
        else:
            lon, lat = rng.uniform(EXTENT[0], EXTENT[2]), rng.uniform(EXTENT[1], EXTENT[3])
        lon, lat = min(max(lon, EXTENT[0]), EXTENT[2]), min(max(lat, EXTENT[1]), EXTENT[3])
        cell = int((lon - EXTENT[0]) / 0.06) * 11 + int((lat - EXTENT[1]) / 0.05)
        zip5 = str(ZIPS[cell % len(ZIPS)])
        code = rng.choices(_USE_CODE_NAMES, cum_weights=_USE_CODE_WEIGHTS)[0]
        vacant = code == "0000"
        street = f"{rng.randint(100, 19899)} {rng.choice(['', 'N ', 'S ', 'E ', 'W '])}{rng.choice(STREETS)} "
        street += rng.choice(SUFFIXES)
        if code == "0400":
            street += f" UNIT {rng.randint(101, 420)}"
        market = rng.randrange(25_000, 120_000, 500) if vacant else rng.randrange(90_000, 650_000, 500)
        if distressed:
            market = int(market * 0.8)
        absentee = rng.random() < (0.5 if distressed else 0.22)
        owner = (
            f"{rng.choice(['SUNSHINE', 'CITRUS', 'LAKESIDE', 'ORANGE GROVE'])} HOLDINGS LLC"
            if absentee and rng.random() < 0.4
            else f"{rng.choice(LAST)} {rng.choice(FIRST)}"
        )
        mail = rng.choice(AWAY) if absentee else (street.upper(), "ORLANDO", f"FL{zip5}")
        assessed = int(market * rng.uniform(0.62, 0.95))
        taxable = max(assessed - (0 if absentee else 50_000), 0)
        sale_price = int(market * rng.uniform(0.15, 0.95))
        sale_day = dt.date(rng.randint(1986, 2024), rng.randint(1, 12), rng.randint(1, 28))
        taxes = round(taxable * rng.uniform(0.016, 0.021), 2)
        parcel_id = _display_parcel(oid + self.parcel_offset, rng)
        situs = street if rng.random() < 0.8 else f"  {street.lower()}   "
        change = self._change_today("parcel", oid, 0.02)
        if change:  # a sale or a new tax bill overnight
            owner, taxes = f"{change.choice(LAST)} {change.choice(FIRST)} TR", round(taxes * 1.04, 2)
        return {
            "attributes": {
                "OBJECTID": oid,
                "PARCEL": parcel_id,
                "NAME1": owner,
                "SITUS": situs,
                "SITUS_CITY": "ORLANDO",
                "SITUS_ZIP": zip5,
                "MAIL_ADDR1": mail[0],
                "MAIL_CITY": mail[1],
                "MAIL_STZIP": mail[2],
                "DOR_CODE": code,
                "BEDS": 0 if vacant else rng.choice((2, 3, 3, 3, 4, 4, 5)),
                "BATHS": 0 if vacant else rng.choice((1, 1.5, 2, 2, 2.5, 3)),
                "LIVING_AREA": 0 if vacant else rng.randrange(850, 3600, 10),
                "LAND_AREA": rng.randrange(4000, 15000, 50),
                "YEAR_BUILT": 0 if vacant else rng.randint(1948, 2022),
                "TAX_YEAR": self.today.year - 1,
                "TOTAL_MKT": market,
                "TOTAL_ASSD": assessed,
                "TAXABLE": taxable,
                "TAXES": taxes,
                "SALE_PRICE": sale_price,
                "SALE_DATE": epoch_ms(sale_day),
            },
            "geometry": {"x": round(lon, 6), "y": round(lat, 6)},
        }

    def parcel_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("PARCEL", "esriFieldTypeString"),
                  ("NAME1", "esriFieldTypeString"), ("SITUS", "esriFieldTypeString"),
                  ("SITUS_CITY", "esriFieldTypeString"), ("SITUS_ZIP", "esriFieldTypeString"),
                  ("MAIL_ADDR1", "esriFieldTypeString"), ("MAIL_CITY", "esriFieldTypeString"),
                  ("MAIL_STZIP", "esriFieldTypeString"), ("DOR_CODE", "esriFieldTypeString"),
                  ("BEDS", "esriFieldTypeInteger"), ("BATHS", "esriFieldTypeDouble"),
                  ("LIVING_AREA", "esriFieldTypeInteger"), ("LAND_AREA", "esriFieldTypeInteger"),
                  ("YEAR_BUILT", "esriFieldTypeInteger"), ("TAX_YEAR", "esriFieldTypeInteger"),
                  ("TOTAL_MKT", "esriFieldTypeDouble"), ("TOTAL_ASSD", "esriFieldTypeDouble"),
                  ("TAXABLE", "esriFieldTypeDouble"), ("TAXES", "esriFieldTypeDouble"),
                  ("SALE_PRICE", "esriFieldTypeDouble"), ("SALE_DATE", "esriFieldTypeDate")]  # fmt: skip
        return Layer("Parcels", "parcels", fields, self.parcels, self.parcel)

    def _parcel_id(self, oid: int) -> str:
        return self.parcel(oid)["attributes"]["PARCEL"]

    # --- distress layers ------------------------------------------------------------------------
    def _member(self, name: str, n: int) -> tuple[int, random.Random]:
        oid = self.members[name][n - 1]
        return oid, self._rng(name, n)

    def tax_sale(self, n: int) -> dict:
        oid, rng = self._member("tax_sales", n)
        return {
            "attributes": {
                "OBJECTID": n,
                "USER_TDA_NUM": f"{self.today.year - 1}-{n:06d}",
                "USER_Sale_Date": epoch_ms(self.today + dt.timedelta(days=rng.randint(-20, 90))),
                "USER_Deed_Status": rng.choice(["Active", "Active", "Scheduled for Sale", "Redeemed"]),
                "USER_PARCEL": self._parcel_id(oid),
                "USER_Opening_Bid": round(rng.uniform(1800, 24000), 2),
            },
            "geometry": None,
        }

    def tax_sale_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("USER_TDA_NUM", "esriFieldTypeString"),
                  ("USER_Sale_Date", "esriFieldTypeDate"), ("USER_Deed_Status", "esriFieldTypeString"),
                  ("USER_PARCEL", "esriFieldTypeString"), ("USER_Opening_Bid", "esriFieldTypeDouble")]  # fmt: skip
        return Layer("TaxDeedSales", "tax_sales", fields, len(self.members["tax_sales"]), self.tax_sale, None)

    def foreclosure(self, n: int) -> dict:
        oid, rng = self._member("foreclosures", n)
        return {
            "attributes": {
                "OBJECTID": n,
                "CASE_NUMBER": f"{self.today.year - 1}-CA-{n:06d}-O",
                "PARCEL_ID": self._parcel_id(oid),
                "BORROWER": f"{rng.choice(LAST)} {rng.choice(FIRST)}",
                "LENDER": rng.choice(LENDERS),
                "CASE_STATUS": rng.choice(["Scheduled", "Scheduled", "Judgment Entered", "Filed"]),
                "FILING_DATE": epoch_ms(self.today - dt.timedelta(days=rng.randint(30, 220))),
                "AUCTION_DATE": epoch_ms(self.today + dt.timedelta(days=rng.randint(5, 75))),
                "JUDGMENT_AMOUNT": float(rng.randrange(40_000, 310_000, 100)),
            },
            "geometry": None,
        }

    def foreclosure_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("CASE_NUMBER", "esriFieldTypeString"),
                  ("PARCEL_ID", "esriFieldTypeString"), ("BORROWER", "esriFieldTypeString"),
                  ("LENDER", "esriFieldTypeString"), ("CASE_STATUS", "esriFieldTypeString"),
                  ("FILING_DATE", "esriFieldTypeDate"), ("AUCTION_DATE", "esriFieldTypeDate"),
                  ("JUDGMENT_AMOUNT", "esriFieldTypeDouble")]  # fmt: skip
        return Layer("Foreclosures", "foreclosures", fields, len(self.members["foreclosures"]), self.foreclosure, None)

    def violation(self, n: int) -> dict:
        oid, rng = self._member("code_violations", n)
        parcel = self.parcel(oid)
        opened = self.today - dt.timedelta(days=rng.randint(5, 400))
        closed = rng.random() < 0.3
        return {
            "attributes": {
                "OBJECTID": n,
                "apno": f"CE{opened.year}-{n:07d}",
                "case_type": rng.choice(VIOLATIONS),
                "casedt": epoch_ms(opened),
                "resdt": epoch_ms(opened + dt.timedelta(days=rng.randint(10, 90))) if closed else None,
                "caseinfostatus": "Closed" if closed else rng.choice(["Open", "Open", "Lien Recorded", "Hearing Set"]),
                "parcel_id": api_form(parcel["attributes"]["PARCEL"]),  # the city writes the county's API form
                "address": parcel["attributes"]["SITUS"].strip().upper(),
            },
            "geometry": parcel["geometry"],
        }

    def violation_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("apno", "esriFieldTypeString"),
                  ("case_type", "esriFieldTypeString"), ("casedt", "esriFieldTypeDate"),
                  ("resdt", "esriFieldTypeDate"), ("caseinfostatus", "esriFieldTypeString"),
                  ("parcel_id", "esriFieldTypeString"), ("address", "esriFieldTypeString")]  # fmt: skip
        return Layer("CodeEnforcement", "code_violations", fields, len(self.members["code_violations"]),
                     self.violation)  # fmt: skip

    def listing(self, n: int) -> dict:
        oid, rng = self._member("listings", n)
        parcel = self.parcel(oid)
        a = parcel["attributes"]
        price = int(max(a["TOTAL_MKT"], 40_000) * rng.uniform(0.85, 1.25)) // 1000 * 1000
        cut = rng.choice([0, 0, 0, -5000, -10000, -15000, -25000])
        if self._change_today("listings", n, 0.10):
            cut, price = cut - 5000, price - 5000
        return {
            "attributes": {
                "OBJECTID": n,
                "zpid": str(40_000_000 + n),
                "parcelId": a["PARCEL"] if n % 2 else api_form(a["PARCEL"]),
                "streetAddress": a["SITUS"].strip(),
                "city": "Orlando",
                "state": "FL",
                "zipcode": a["SITUS_ZIP"],
                "price": price,
                "priceChange": cut or None,
                "datePriceChanged": epoch_ms(self.today - dt.timedelta(days=rng.randint(2, 30))) if cut else None,
                "homeStatus": rng.choice(["FOR_SALE", "FOR_SALE", "FOR_SALE", "PENDING"]),
                "daysOnZillow": rng.randint(3, 160),
                "bedrooms": a["BEDS"] or None,
                "bathrooms": a["BATHS"] or None,
                "livingArea": a["LIVING_AREA"] or None,
                "lotSize": a["LAND_AREA"],
                "yearBuilt": a["YEAR_BUILT"] or None,
                "homeType": HOME_TYPES.get(a["DOR_CODE"], "LOT"),
                "url": f"https://www.zillow.com/homedetails/{40_000_000 + n}_zpid/",
            },
            "geometry": parcel["geometry"],
        }

    def listing_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("zpid", "esriFieldTypeString"),
                  ("parcelId", "esriFieldTypeString"), ("streetAddress", "esriFieldTypeString"),
                  ("city", "esriFieldTypeString"), ("state", "esriFieldTypeString"),
                  ("zipcode", "esriFieldTypeString"), ("price", "esriFieldTypeDouble"),
                  ("priceChange", "esriFieldTypeDouble"), ("datePriceChanged", "esriFieldTypeDate"),
                  ("homeStatus", "esriFieldTypeString"), ("daysOnZillow", "esriFieldTypeInteger"),
                  ("bedrooms", "esriFieldTypeInteger"), ("bathrooms", "esriFieldTypeDouble"),
                  ("livingArea", "esriFieldTypeInteger"), ("lotSize", "esriFieldTypeInteger"),
                  ("yearBuilt", "esriFieldTypeInteger"), ("homeType", "esriFieldTypeString"),
                  ("url", "esriFieldTypeString")]  # fmt: skip
        return Layer("Listings", "listings", fields, len(self.members["listings"]), self.listing)

    # --- recorded sales -------------------------------------------------------------------------
    @property
    def new_deeds(self) -> int:
        """Deeds recorded since the first night: a day's share of the 24 months' for each later day."""
        return max(len(self.members["sales"]) // 730, 1) * (self.day - 1)

    def sale(self, n: int) -> dict:
        ids = self.members["sales"]
        if n > len(ids):  # recorded overnight: a sale of the last few days
            rng = self._rng("sales", n)
            oid, resale, flipped, days_ago = rng.randint(1, self.parcels), False, False, rng.randint(1, 4)
        else:
            oid, rng = self._member("sales", n)
            resale = n >= 2 and ids[n - 2] == oid  # the second deed of a flipped parcel
            flipped = n < len(ids) and ids[n] == oid  # the first one: older than the resale
            days_ago = rng.randint(1, 300) if resale else rng.randint(320, 730) if flipped else rng.randint(30, 730)
        parcel = self.parcel(oid)
        a = parcel["attributes"]
        deed = rng.choices(_SALE_DEED_NAMES, cum_weights=_SALE_DEED_WEIGHTS)[0]
        market = max(a["TOTAL_MKT"], 40_000)
        if deed == "QCD":
            price = 10
        elif deed in ("CT", "TD"):
            price = int(market * rng.uniform(0.35, 0.7)) // 100 * 100
        else:
            price = int(market * rng.uniform(0.88, 1.15) * (1.12 if resale else 1)) // 500 * 500
        grantee = (
            f"{rng.choice(['SUNSHINE', 'CITRUS', 'LAKESIDE', 'KEYSTONE'])} HOMEBUYERS LLC"
            if rng.random() < 0.15
            else f"{rng.choice(LAST)} {rng.choice(FIRST)}"
        )
        grantor = rng.choice(LENDERS) if deed == "CT" else a["NAME1"]
        return {
            "attributes": {
                "OBJECTID": n,
                "DOC_NO": f"{self.today.year}{n:07d}",
                "PARCEL": a["PARCEL"],
                "SALE_DATE": epoch_ms(self.today - dt.timedelta(days=days_ago)),
                "RECORD_DATE": epoch_ms(self.today - dt.timedelta(days=max(days_ago - rng.randint(1, 20), 0))),
                "SALE_PRICE": price,
                "DEED_TYPE": deed,
                "GRANTOR": grantor,
                "GRANTEE": grantee,
            },
            "geometry": parcel["geometry"],
        }

    def sale_layer(self) -> Layer:
        fields = [("OBJECTID", "esriFieldTypeOID"), ("DOC_NO", "esriFieldTypeString"),
                  ("PARCEL", "esriFieldTypeString"), ("SALE_DATE", "esriFieldTypeDate"),
                  ("RECORD_DATE", "esriFieldTypeDate"), ("SALE_PRICE", "esriFieldTypeDouble"),
                  ("DEED_TYPE", "esriFieldTypeString"), ("GRANTOR", "esriFieldTypeString"),
                  ("GRANTEE", "esriFieldTypeString")]  # fmt: skip
        return Layer("RecordedSales", "sales", fields, len(self.members["sales"]) + self.new_deeds, self.sale)


# Field mappings of the county's layers (DataSource.field_mapping), presets where the project has them.
MAPPINGS = {
    "parcels": {"preset": "orange_fl_parcels"},
    "tax_sales": {"preset": "orange_fl_tax_sales"},
    "foreclosures": {
        "parcel_id": "PARCEL_ID",
        "case_number": "CASE_NUMBER",
        "borrower": "BORROWER",
        "lender": "LENDER",
        "status": "CASE_STATUS",
        "default_amount": "JUDGMENT_AMOUNT",
        "filing_date": "FILING_DATE",
        "auction_date": "AUCTION_DATE",
        "county": {"value": "Orange"},
        "state": {"value": "FL"},
    },
    "code_violations": {"preset": "orlando_code_violations"},
    "listings": {"preset": "zillow"},
    "sales": {
        "parcel_id": "PARCEL",
        "document_id": "DOC_NO",
        "sale_date": "SALE_DATE",
        "recording_date": "RECORD_DATE",
        "sale_price": "SALE_PRICE",
        "deed_type": "DEED_TYPE",
        "grantor": "GRANTOR",
        "grantee": "GRANTEE",
        "county": {"value": "Orange"},
        "state": {"value": "FL"},
    },
}


# --- buyers ---------------------------------------------------------------------------------------
def buyers(count: int, *, seed: int = 20260101) -> Iterator[dict]:
    """`count` cash buyers' fields (Buyer model) with buy boxes: price band, types, beds, and an area kind
    (a drawn rectangle, a list of zips, or a centre + radius), most of them near the city like real demand."""
    from django.contrib.gis.geos import MultiPolygon, Point, Polygon

    rng = random.Random(seed * 7 + 3)  # noqa: S311 - fake data, not security
    for n in range(1, count + 1):
        kind = rng.choices(("area", "zips", "radius"), weights=(3, 4, 3))[0]
        lon, lat = rng.gauss(CITY[0], 0.09), rng.gauss(CITY[1], 0.07)
        low = rng.randrange(20_000, 200_000, 5_000)
        box: dict = {"target_area": None, "target_zips": [], "center": None, "radius_miles": None}
        if kind == "area":
            half_w, half_h = rng.uniform(0.01, 0.04), rng.uniform(0.01, 0.03)
            box["target_area"] = MultiPolygon(
                Polygon.from_bbox((lon - half_w, lat - half_h, lon + half_w, lat + half_h)), srid=4326
            )
        elif kind == "zips":
            box["target_zips"] = [str(z) for z in rng.sample(ZIPS, rng.randint(1, 4))]
        else:
            box["center"] = Point(round(lon, 6), round(lat, 6), srid=4326)
            box["radius_miles"] = Decimal(rng.choice((1, 2, 2, 3, 3, 5)))
        yield {
            "email": f"buyer{n:05d}@benchmark.example",
            "first_name": rng.choice(FIRST).title(),
            "last_name": rng.choice(LAST).title(),
            "company": f"Benchmark Capital {n}" if rng.random() < 0.5 else "",
            "tags": ["cash-buyer", "benchmark"],
            "min_price": Decimal(low),
            "max_price": Decimal(low + rng.randrange(40_000, 200_000, 5_000)),
            "property_types": rng.sample(BUYER_TYPES[:4], rng.randint(1, 3)),
            "min_beds": rng.choice((None, None, 2, 3)),
            "strategies": rng.sample(STRATEGIES, rng.randint(1, 2)),
            "cash_buyer": rng.random() < 0.85,
            "proof_of_funds": rng.random() < 0.6,
            **box,
        }


def viewports(kind: str, count: int, *, seed: int = 7) -> list[tuple[tuple[float, float, float, float], int]]:
    """(bbox, zoom) pairs a broker would ask for: the whole county at zoom 9-11, city blocks at zoom 13-15."""
    rng = random.Random(seed)  # noqa: S311 - fake data, not security
    out = []
    for _ in range(count):
        if kind == "county":
            zoom = rng.choice((9, 10, 11))
            half_w, half_h = 0.35 * 2 ** (10 - zoom), 0.25 * 2 ** (10 - zoom)
            lon, lat = rng.uniform(-81.45, -81.30), rng.uniform(28.48, 28.62)
        else:
            zoom = rng.choice((13, 14, 15))
            half_w, half_h = 0.022 * 2 ** (13 - zoom), 0.016 * 2 ** (13 - zoom)
            lon, lat = rng.uniform(CITY_EXTENT[0], CITY_EXTENT[2]), rng.uniform(CITY_EXTENT[1], CITY_EXTENT[3])
        bbox = (lon - half_w, lat - half_h, lon + half_w, lat + half_h)
        out.append((tuple(round(v, 5) for v in bbox), zoom))
    return out
