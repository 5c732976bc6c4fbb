"""Shared set-up of the benchmarks: a PostgreSQL database of their own, migrated, and timing."""

import os
import statistics
import time

BENCH_DB = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cxplatform_bench")
# BENCH_SMOKE=1: every benchmark at a small size, so `make test` proves each still runs against
# today's schema and code (tests/bench/test_smoke.py); its figures mean nothing.
SMOKE = os.environ.get("BENCH_SMOKE") == "1"


def size(full: int, smoke: int) -> int:
    return smoke if SMOKE else full


def setup_django():
    """Point Django at the bench database (created if missing) and migrate it."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(BENCH_DB)
    admin = psycopg2.connect(dbname="postgres", user=config["USER"] or None, host=config["HOST"] or None,
                             port=config["PORT"] or None, password=config["PASSWORD"] or None)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    admin.close()
    os.environ["DATABASE_URL"] = BENCH_DB
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxplatform.settings")
    os.environ["AXES_ENABLED"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn, repeat):
    """Run `fn` `repeat` times; return the durations in milliseconds."""
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def summary(durations):
    ordered = sorted(durations)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    return {"median_ms": round(statistics.median(ordered), 3), "p95_ms": round(p95, 3), "n": len(ordered)}


def peak_mb() -> float:
    """The process's resident high-water mark, in MB. Not ru_maxrss: Linux carries that over from
    the parent across fork and exec, so a child would start at the bench runner's own peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scored_organization(*, slug: str, name: str, manager: str, customer_prefix: str):
    """The organization the metrics benchmarks fill: three NPS surveys, seven touchpoints, five
    channels, 3,000 customers over three plans (the segment), and a CX manager to read its pages.
    Returns (org, surveys, touchpoints, channels, customers, user)."""
    from django.contrib.auth import get_user_model

    from cxplatform.models import Customer, Membership, Organization
    from journeys.models import Channel, Touchpoint
    from surveys.models import Survey
    from surveys.services import save_survey

    org, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": name, "segment_attribute": "plan"})
    surveys = list(Survey.objects.filter(organization=org, survey_type="nps"))
    if not surveys:
        surveys = [save_survey(Survey(organization=org, name=f"NPS {i}", survey_type="nps", status="active"), {},
                               fill_defaults=True) for i in range(3)]
    touchpoints = [Touchpoint.objects.get_or_create(organization=org, name=f"Touchpoint {i}")[0] for i in range(7)]
    channels = [Channel.objects.get_or_create(organization=org, name=f"Channel {i}")[0] for i in range(5)]
    if not Customer.objects.filter(organization=org).exists():
        plans = ["purchase", "subscription", "fleet"]
        Customer.objects.bulk_create([
            Customer(organization=org, external_id=f"{customer_prefix}{i}", attributes={"plan": plans[i % 3]})
            for i in range(3000)
        ])
    customers = list(Customer.objects.filter(organization=org).only("pk"))
    user, _ = get_user_model().objects.get_or_create(username=manager)
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "cx_manager"})
    return org, surveys, touchpoints, channels, customers, user
