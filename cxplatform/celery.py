import os

from celery import Celery
from celery.signals import task_prerun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")

app = Celery("cxplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def check_connections_between_tasks(**_kwargs):
    """A worker keeps its database connection across tasks (CELERY_DB_REUSE_MAX), and it may idle
    for minutes between them (a restarted database, a proxy's idle timeout): checking it before
    the next task pays here, unlike between a web server's requests seconds apart."""
    from django.db import connections

    for alias in connections:
        connections[alias].settings_dict["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
def renew_connections_before_task(task=None, **_kwargs):
    """What Django does at each request's start: drop a connection that failed or is past its
    age, and arm the health check for its next use. Not for a task run in-process (eager): it is
    inside the caller's request and transaction."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
