"""The Celery application. Without CELERY_BROKER_URL tasks run eagerly (see settings).

Every task is idempotent (a re-run converges), so messages are acknowledged late: a task lost with its
worker runs again. The broker's visibility timeout exceeds the hard time limit so that a long task
is not handed to a second worker while the first still runs it.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealfinder.settings")

SOFT_TIME_LIMIT = 60 * 50
HARD_TIME_LIMIT = 60 * 55

app = Celery("dealfinder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_soft_time_limit=SOFT_TIME_LIMIT,
    task_time_limit=HARD_TIME_LIMIT,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": 2 * HARD_TIME_LIMIT,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    },
)
app.autodiscover_tasks()
