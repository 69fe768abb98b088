"""Writes sales.csv, the sample county's recorded deeds (run from the repository root; deterministic):
an arms-length sale for most houses near their market value, plus what a recorder also records ($0 transfers,
family quitclaims, a three-parcel deed, sheriff's deeds) and a company buying three houses in one zip for cash.
Dates are relative to 2026-01-01 (the sample source rebases them to today)."""

import csv
import datetime
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANCHOR = datetime.date(2026, 1, 1)


def main():
    rng = random.Random(21)  # noqa: S311 (sample data, not secrets)
    parcels = [f["attributes"] for f in json.loads((HERE / "parcels.json").read_text())["features"]]
    rows = []
    for n, p in enumerate(parcels):
        value = p.get("TOTAL_MKT") or 0
        if not value or rng.random() > 0.7:
            continue
        day = ANCHOR - datetime.timedelta(days=rng.randint(20, 700))
        price = round(value * rng.uniform(0.9, 1.2), -2)
        deed, grantor, grantee, mortgage = "WARRANTY DEED", f"SELLER{n} PAT", f"BUYER{n} LEE", round(price * 0.8, -2)
        kind = rng.random()
        if kind < 0.05:
            price, mortgage = 0, ""
        elif kind < 0.10:
            deed, grantor, grantee, mortgage = "QUIT CLAIM DEED", "GARCIA JOSE", "GARCIA MARIA", ""
        elif kind < 0.14:
            deed, grantor, grantee, mortgage = "CERTIFICATE OF TITLE", "CLERK OF COURT", "WELLS FARGO BANK NA", ""
        rows.append([f"2024{n:06d}", p["PARCEL"], day.isoformat(), price, deed, grantor, grantee, mortgage])
    by_zip = {}
    for p in parcels:
        by_zip.setdefault(p["SITUS_ZIP"], []).append(p)
    zip_code = max(by_zip, key=lambda z: len(by_zip[z]))
    for i, p in enumerate(by_zip[zip_code][:3]):  # the discovered cash buyer
        day = ANCHOR - datetime.timedelta(days=40 + 90 * i)
        price = round((p.get("TOTAL_MKT") or 150000) * 0.6, -2)
        rows.append([f"2025{900 + i:06d}", p["PARCEL"], day.isoformat(), price, "WARRANTY DEED", f"ESTATE OF OWNER{i}",
                     "SUNSHINE STATE HOMEBUYERS LLC", ""])  # fmt: skip
    for p in by_zip[zip_code][3:6]:  # one deed over three parcels
        rows.append(["2025000999", p["PARCEL"], "2025-08-15", 900000, "WARRANTY DEED", "ACME RENTALS LLC",
                     "BIG FUND LP", 600000])  # fmt: skip
    with (HERE / "sales.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["doc_no", "parcel_id", "deed_date", "consideration", "instrument", "grantor", "grantee",
                         "mortgage_amount"])  # fmt: skip
        writer.writerows(rows)


if __name__ == "__main__":
    main()
