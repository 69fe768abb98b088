"""The roof: what composes the apps (the nightly pipeline, its Celery tasks and schedules, the dashboard and
health views, roles and accounts, the demo and benchmark commands). It may import every app and the floor;
nothing imports it but the project's configuration (dealfinder/urls.py, api_router.py, settings)."""
