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
