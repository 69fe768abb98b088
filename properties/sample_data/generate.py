"""Generate the sample county's files once (deterministic): `python properties/sample_data/generate.py`.

A fake Orange County FL around Orlando: appraiser parcels and comptroller tax-deed sales as ArcGIS feature JSON
(Orange County field names), clerk foreclosures as CSV, City of Orlando code enforcement as Socrata-style CSV
(parcel ids in the API form), and a Zillow listings export with price reductions. Dates that drive urgency are
written relative to ANCHOR; the sample mappings `rebase` them so the demo always looks current.
"""

import csv
import datetime as dt
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent
ANCHOR = dt.date(2026, 1, 1)
N_PARCELS = 300
ZIPS = [32801, 32803, 32804, 32805, 32806, 32807, 32808, 32809, 32810, 32811, 32812, 32814, 32817, 32818, 32819,
        32822, 32824, 32825, 32826, 32827, 32828, 32829, 32832, 32835, 32836, 32837, 32839]  # fmt: skip
STREETS = ["ORANGE BLOSSOM", "COLONIAL", "MICHIGAN", "KALEY", "CONWAY", "SEMORAN", "PINE HILLS", "KIRKMAN",
           "HIAWASSEE", "CURRY FORD", "LAKE UNDERHILL", "EDGEWATER", "MAGUIRE", "PRINCETON", "VINELAND", "DELANEY",
           "LAKEMONT", "FERNCREEK", "BUMBY", "MILLS", "ROBINSON", "HOLDEN", "OAK RIDGE", "WASHINGTON"]  # fmt: skip
SUFFIXES = ["street", "ST", "AVE", "avenue", "DR", "BLVD", "RD", "ct", "LN", "WAY"]
FIRST = ["JAMES", "MARIA", "ROBERT", "LINDA", "MICHAEL", "BARBARA", "DAVID", "SUSAN", "CARLOS", "ANGELA", "KEVIN",
         "DENISE", "LUIS", "TAMARA", "GARY", "ROSA", "STEVEN", "PATRICIA", "ANDRE", "NANCY"]  # fmt: skip
LAST = ["SMITH", "JOHNSON", "RODRIGUEZ", "WILLIAMS", "BROWN", "GARCIA", "MILLER", "DAVIS", "MARTINEZ", "WILSON",
        "ANDERSON", "THOMAS", "JACKSON", "WHITE", "LOPEZ", "HARRIS", "CLARK", "LEWIS", "WALKER", "YOUNG"]  # fmt: skip
AWAY = [("1550 WOODWARD AVE", "DETROIT", "MI48226"), ("22 PARK PL", "NEW YORK", "NY10007"),
        ("PO BOX 9821", "ATLANTA", "GA30303"), ("700 BRICKELL AVE", "MIAMI", "FL33131"),
        ("415 N MAIN ST", "BYRON CENTER", "MI49315"), ("88 LAKE SHORE DR", "CHICAGO", "IL60611")]  # fmt: skip
USE_CODES = [("0101", 70), ("0400", 10), ("0800", 8), ("0200", 4), ("0000", 5), ("1100", 3)]
VIOLATIONS = ["Overgrown Lot", "Junk and Debris", "Unsafe Structure", "Boarded Building", "Illegal Dumping",
              "Roof Damage", "Pool Not Maintained", "Abandoned Vehicle"]  # fmt: skip
LENDERS = ["WELLS FARGO BANK NA", "NATIONSTAR MORTGAGE LLC", "U.S. BANK NATIONAL ASSOCIATION", "ROCKET MORTGAGE LLC",
           "FREEDOM MORTGAGE CORPORATION"]  # fmt: skip


def epoch_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def days(n: int) -> dt.date:
    return ANCHOR + dt.timedelta(days=n)


def api_form(display: str) -> str:
    section, township, range_, *rest = display.split("-")
    return range_ + township + section + "".join(rest)


def make_parcels(rng: random.Random) -> list[dict]:
    parcels, seen = [], set()
    while len(parcels) < N_PARCELS:
        pid = "-".join(
            [f"{rng.randint(1, 36):02d}", f"{rng.choice([22, 23])}", f"{rng.choice([28, 29, 30, 31])}",
             f"{rng.randint(1000, 9999)}", f"{rng.randint(0, 12):02d}", f"{rng.randint(1, 400):03d}"]
        )  # fmt: skip
        if pid in seen:
            continue
        seen.add(pid)
        n = len(parcels)
        code = rng.choices([c for c, _ in USE_CODES], weights=[w for _, w in USE_CODES])[0]
        vacant = code == "0000"
        street = f"{rng.randint(100, 9899)} {rng.choice(['', 'N ', 'S ', 'E ', 'W '])}{rng.choice(STREETS)} "
        street += rng.choice(SUFFIXES)
        if code == "0400":
            street += f" UNIT {rng.randint(101, 420)}"
        market = 0 if vacant else rng.randrange(90_000, 650_000, 500)
        market = market or rng.randrange(25_000, 120_000, 500)
        absentee = rng.random() < 0.3
        zip5 = rng.choice(ZIPS)
        owner = (
            f"{rng.choice(['SUNSHINE', 'CITRUS', 'LAKESIDE', 'ORANGE GROVE'])} HOLDINGS LLC"
            if absentee and rng.random() < 0.4
            else f"{rng.choice(LAST)} {rng.choice(FIRST)}"
        )
        mail = rng.choice(AWAY) if absentee else (street.upper(), "ORLANDO", f"FL{zip5}")
        sale_year = rng.randint(1986, 2024)
        assessed = int(market * rng.uniform(0.62, 0.95))
        taxable = max(assessed - (0 if absentee else 50_000), 0)
        parcels.append(
            {
                "attributes": {
                    "OBJECTID": 1000 + n,
                    "PARCEL": pid,
                    "NAME1": owner,
                    "SITUS": street if rng.random() < 0.8 else f"  {street.lower()}   ",  # padding, case
                    "SITUS_CITY": "ORLANDO",
                    "SITUS_ZIP": str(zip5),
                    "MAIL_ADDR1": mail[0],
                    "MAIL_CITY": mail[1],
                    "MAIL_STZIP": mail[2],
                    "DOR_CODE": code,
                    "BEDS": 0 if vacant else rng.choice([2, 3, 3, 3, 4, 4, 5]),
                    "BATHS": 0 if vacant else rng.choice([1, 1.5, 2, 2, 2.5, 3]),
                    "LIVING_AREA": 0 if vacant else rng.randrange(850, 3600, 10),
                    "LAND_AREA": rng.randrange(4000, 15000, 50),
                    "YEAR_BUILT": 0 if vacant else rng.randint(1948, 2019),
                    "TAX_YEAR": 2025,
                    "TOTAL_MKT": market,
                    "TOTAL_ASSD": assessed,
                    "TAXABLE": taxable,
                    "TAXES": round(taxable * rng.uniform(0.016, 0.021), 2),
                    "SALE_PRICE": int(market * rng.uniform(0.2, 0.9)),
                    "SALE_DATE": epoch_ms(dt.date(sale_year, rng.randint(1, 12), rng.randint(1, 28))),
                },
                "geometry": {"x": round(rng.uniform(-81.5, -81.25), 6), "y": round(rng.uniform(28.45, 28.62), 6)},
            }
        )
    # The same house under two parcel ids (a re-plat): dedupe merges them by address + zip.
    for i in (10, 11, 12):
        twin = json.loads(json.dumps(parcels[i]))
        twin["attributes"]["OBJECTID"] = 2000 + i
        twin["attributes"]["PARCEL"] = parcels[i]["attributes"]["PARCEL"][:-3] + "999"
        twin["attributes"]["NAME1"] = ""
        parcels.append(twin)
    return parcels


def feature_json(features: list[dict], fields: list[str], geometry_type: str | None) -> dict:
    data = {
        "objectIdFieldName": "OBJECTID",
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        "fields": [
            {"name": f, "type": "esriFieldTypeOID" if f == "OBJECTID" else "esriFieldTypeString"} for f in fields
        ],
        "features": features,
    }
    if geometry_type:
        data["geometryType"] = geometry_type
    return data


def write_csv(name: str, rows: list[dict]) -> None:
    with (OUT / name).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(20260101)  # noqa: S311 - reproducible fake data, not security
    parcels = make_parcels(rng)
    attrs = [p["attributes"] for p in parcels[:N_PARCELS]]
    stacked = attrs[:30]  # 3-4 distress signals each
    sprinkle = rng.sample(attrs[30:], 70)

    tax_sales = []
    for n, a in enumerate(stacked[:24] + sprinkle[:20]):
        tax_sales.append(
            {
                "attributes": {
                    "OBJECTID": 1 + n,
                    "USER_TDA_NUM": f"2025-{4100 + n}",
                    "USER_Sale_Date": epoch_ms(days(rng.randint(5, 60))),
                    "USER_Deed_Status": rng.choice(["Active", "Active", "Scheduled for Sale", "Redeemed"]),
                    "USER_PARCEL": a["PARCEL"],
                    "USER_Opening_Bid": round(rng.uniform(1800, 24000), 2),
                },
                "geometry": None,
            }
        )
    foreclosures = [
        {
            "case_number": f"2025-CA-{rng.randint(1000, 19999):06d}-O",
            "parcel_id": a["PARCEL"],
            "borrower": a["NAME1"],
            "lender": rng.choice(LENDERS),
            "status": rng.choice(["Scheduled", "Scheduled", "Judgment Entered", "Filed"]),
            "filing_date": days(-rng.randint(30, 220)).isoformat(),
            "auction_date": days(rng.randint(10, 75)).isoformat(),
            "judgment_amount": f"{rng.randrange(40_000, 310_000, 100)}.00",
        }
        for a in stacked[5:25] + sprinkle[20:34]
    ]
    violations = []
    for n, a in enumerate(stacked[:30] + stacked[:8] + sprinkle[30:60]):
        opened = days(-rng.randint(5, 400))
        closed = rng.random() < 0.3
        violations.append(
            {
                "apno": f"CE{2025 if opened.year >= 2025 else 2024}-{10000 + n}",
                "case_type": rng.choice(VIOLATIONS),
                "casedt": f"{opened.isoformat()}T00:00:00.000",
                "resdt": f"{(opened + dt.timedelta(days=rng.randint(10, 90))).isoformat()}T00:00:00.000"
                if closed
                else "",
                "caseinfostatus": "Closed" if closed else rng.choice(["Open", "Open", "Lien Recorded", "Hearing Set"]),
                "parcel_id": api_form(a["PARCEL"]),  # the city writes Orange County's API form
                "address": a["SITUS"].strip().upper(),
            }
        )
    listings = []
    for n, a in enumerate(stacked[20:30] + sprinkle[55:70] + attrs[200:215]):
        price = rng.randrange(110_000, 640_000, 1000)
        cut = rng.choice([0, 0, -5000, -10000, -15000, -25000])
        homes = {"0101": "SINGLE_FAMILY", "0400": "CONDO", "0800": "MULTI_FAMILY", "0200": "MANUFACTURED"}
        listings.append(
            {
                "zpid": str(40_000_000 + n * 37),
                "parcelId": a["PARCEL"] if n % 2 else api_form(a["PARCEL"]),
                "streetAddress": a["SITUS"].strip(),
                "city": "Orlando",
                "state": "FL",
                "zipcode": a["SITUS_ZIP"],
                "price": price,
                "priceChange": cut or "",
                "datePriceChanged": epoch_ms(days(-rng.randint(2, 30))) if cut else "",
                "homeStatus": rng.choice(["FOR_SALE", "FOR_SALE", "FOR_SALE", "PENDING"]),
                "daysOnZillow": rng.randint(3, 160),
                "bedrooms": a["BEDS"] or "",
                "bathrooms": a["BATHS"] or "",
                "livingArea": a["LIVING_AREA"] or "",
                "lotSize": a["LAND_AREA"],
                "yearBuilt": a["YEAR_BUILT"] or "",
                "homeType": homes.get(a["DOR_CODE"], "LOT"),
                "url": f"https://www.zillow.com/homedetails/{40_000_000 + n * 37}_zpid/",
                "latitude": "",
                "longitude": "",
            }
        )
    # A listing for a house the appraiser layer does not have yet: it creates a minimal parcel.
    listings.append({**listings[-1], "zpid": "49999999", "parcelId": "01-23-30-5555-00-010",
                     "streetAddress": "4410 Lake Underhill Rd", "zipcode": "32803", "latitude": "28.5411",
                     "longitude": "-81.3301", "priceChange": "", "datePriceChanged": ""})  # fmt: skip

    (OUT / "parcels.json").write_text(json.dumps(feature_json(parcels, list(attrs[0]), "esriGeometryPoint"), indent=1))
    (OUT / "tax_sales.json").write_text(
        json.dumps(feature_json(tax_sales, list(tax_sales[0]["attributes"]), None), indent=1)
    )
    write_csv("foreclosures.csv", foreclosures)
    write_csv("code_violations.csv", violations)
    write_csv("listings_zillow.csv", listings)


if __name__ == "__main__":
    main()
