"""Great-circle distance in miles, in Python and in SQL, computed the same way so both agree on an edge.

Both read a sphere of the mean Earth radius (6,371,008.8 m) and take the same steps in the same order
(radians of the differences, haversine, arcsine), so PostgreSQL and Python give the same double for the same
points: a set-based query and the pure rule it mirrors keep or drop the same comp at 0.5 mile.

How to integrate: `buyers.matching.haversine_miles` and `buyers.selectors._haversine_sql` are the same
formula; point them here when the floor is reorganised (issue 17).
"""

import math

EARTH_RADIUS_MILES = 3958.7613  # mean Earth radius, 6,371,008.8 m


def haversine_miles(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dp, dl = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def haversine_miles_sql(lon1: str, lat1: str, lon2: str, lat2: str) -> str:
    """haversine_miles as a SQL expression over four float8 expressions (PostgreSQL)."""
    return (
        f"(2 * CAST({EARTH_RADIUS_MILES} AS float8) * ASIN(SQRT(POWER(SIN(RADIANS({lat2} - {lat1}) / 2), 2)"
        f" + COS(RADIANS({lat1})) * COS(RADIANS({lat2})) * POWER(SIN(RADIANS({lon2} - {lon1}) / 2), 2))))"
    )
