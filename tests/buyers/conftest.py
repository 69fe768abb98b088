from types import SimpleNamespace

import pytest
from django.contrib.gis.geos import Point

from tests.factories import ORLANDO, ListingFactory, PropertyFactory
from tests.scenes import lead_at


@pytest.fixture
def places(db):
    """Leads around downtown Orlando; square(ORLANDO, 0.05) holds center, east, condo, no_lead, inactive, dead."""
    x, y = ORLANDO
    ns = SimpleNamespace(
        center=lead_at(x, y, property={"street": "1 CENTER ST"}),  # 0 mi
        east=lead_at(x + 0.03, y + 0.01, "32803", property={"street": "2 EAST ST"}),  # ~1.9 mi
        ring=lead_at(x + 0.09, y, "32807", property={"street": "3 RING RD"}),  # ~5.5 mi, outside the square
        far=lead_at(-81.20, 28.60, "32817", property={"street": "4 FAR AVE"}),  # ~11.6 mi
        zip_only=lead_at(-81.60, 28.40, "32805", property={"street": "5 ZIP WAY"}),  # far, but zip 32805
        condo=lead_at(x - 0.01, y, property={"street": "6 CONDO CT", "property_type": "condo"}),
        pricey=lead_at(x, y - 0.01, mao=500000, property={"street": "7 PRICEY PL"}),
        dead=lead_at(x + 0.01, y - 0.01, status="dead", property={"street": "8 DEAD END"}),
    )
    ns.listed = lead_at(x - 0.02, y + 0.02, mao=None, property={"street": "9 LISTED LN"})
    ListingFactory(property=ns.listed.property, list_price=189000)
    ns.no_lead = PropertyFactory(location=Point(x + 0.005, y + 0.005, srid=4326), street="10 NOLEAD ST")
    ns.inactive = lead_at(x - 0.005, y - 0.005, property={"street": "11 GONE ST", "is_active": False})
    return ns
