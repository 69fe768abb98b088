"""Reporting views for SQL and BI tools (Metabase, Superset, a spreadsheet's database connector).

Five database views (`vw_hot_deals`, `vw_unsynced_properties`, `vw_active_buyers`, `vw_recent_matches`,
`vw_sync_statistics`) read across apps, so they live in the roof:

- sql.py        the views' SQL (PostgreSQL and SQLite/SpatiaLite) and the functions that drop and create them
- definitions   the same figures as ORM querysets (selectors.py), which the tests hold the views to
- models.py     read-only unmanaged models over the views (admin, API)
- api.py / admin.py   `GET /api/v1/reports/<name>/` and the read-only admin pages
- hooks.py      `manage.py migrate` drops the views before it runs and creates them again after, so a migration
                that changes a column a view reads never trips over the view
"""
