"""The map's per-cell counts (leads.grid.grid_points_cells) group by expressions that migration
leads/0012_map_point_cell_statistics keeps statistics on, at every grid level: PostgreSQL then estimates the few
cells a viewport has, not one group per point (and hashes them instead of sorting every point)."""

import json

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.grid import FINE_LEVEL, cell_range, grid_points_cells, map_grid_refresh
from tests.factories import LeadFactory, PropertyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgis]
BBOX = (-82.0, 28.0, -81.0, 29.0)


def test_every_levels_cell_expressions_have_statistics_the_planner_uses():
    for i in range(300):  # 300 points on 3 spots: 3 cells at every level
        x, y = (-81.9, -81.5, -81.1)[i % 3], (28.1, 28.5, 28.9)[i % 3]
        LeadFactory(property=PropertyFactory(location=Point(x, y, srid=4326)), status="new")
    assert map_grid_refresh().points == 300  # it ANALYZEs the points
    with connection.cursor() as cursor:
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'leads_mappoint'::regclass")
        assert {name for (name,) in cursor.fetchall()} == {f"leads_mappoint_cell_{n}" for n in range(FINE_LEVEL + 1)}
    for level in range(FINE_LEVEL + 1):
        with CaptureQueriesContext(connection) as queries:
            grid_points_cells(cells=cell_range(level=level, bbox=BBOX), filters={"status": ["new"]})
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + queries.captured_queries[-1]["sql"])
            explained = cursor.fetchone()[0]
        plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
        assert plan["Plan Rows"] <= 3, (level, plan["Plan Rows"])  # without the statistics: 300
