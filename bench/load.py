"""Customers answering through the production-style stack, against PostgreSQL's own rate.

The stack as docker-compose runs it, on loopback: gunicorn (3 sync workers), a Celery worker
(prefork, concurrency 2) and beat, on Redis and this benchmark's PostgreSQL database. A bounded
load generator (asyncio, one connection per request as gunicorn's sync workers close them) plays
N concurrent customers, each: open the personal link (the page at once) and send the answer (the
thank-you page in reply), two requests (docs/adr/0011). Interleaved with it, at the same
concurrency, PostgreSQL's own single-row insert-and-commit rate into the same table (pgbench), so
the ratio is of the same minute on the same machine.

Event lag is read from the rows the workers leave behind: the answer's rollup (sampled: when the
rollups first count every answer recorded by a given moment), its case (the case's creation
time) and its thank-you e-mail (the time it was sent), during and after the web's full rate.
"""

import asyncio
import glob
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .common import BENCH_DB, SMOKE, size

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (4,) if SMOKE else tuple(int(n) for n in os.environ.get("BENCH_LOAD_LEVELS", "10,50,100").split(","))
PHASE_SECONDS = size(10, 2)
ROUNDS = size(int(os.environ.get("BENCH_LOAD_ROUNDS", "2")), 1)
# gunicorn's sync workers per web process: docker-compose runs 3.
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "3"))
# The express worker's processes (mail, rollups, the loop lane): docker-compose runs 2.
EXPRESS_CONCURRENCY = int(os.environ.get("BENCH_EXPRESS_CONCURRENCY", "2"))
# The raw reference uses one connection per client; PostgreSQL allows 100 in all and the stack
# holds some of them.
RAW_MAX_CLIENTS = 80
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
COMMENTS = ["", "", "Fast delivery, thank you", "Courier was late again", "The app keeps crashing",
            "Всё хорошо", "Kurjers kavējās"]
HOST = "127.0.0.1"


# --- The stack -------------------------------------------------------------------------------

def _stack_env(port):
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cxplatform.settings",
        "DATABASE_URL": BENCH_DB,
        "REDIS_URL": REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,  # the personal links are signed here, read there
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "0",
        "SITE_URL": f"http://{HOST}:{port}",
        "RATE_LIMIT_PER_LINK_IP": str(10**9),  # every customer comes from one address here
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "AXES_ENABLED": "0",
    }
    env.pop("CELERY_BROKER_URL", None)
    return env


@contextmanager
def _process(args, env, log_dir, name):
    log = open(Path(log_dir) / f"{name}.log", "w")  # noqa: SIM115 — closed below
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    STACK_PIDS.add(process.pid)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_http(port, timeout=60.0):
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gunicorn did not answer /healthz")


def free_port():
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


_static_collected = []
# The stack's own collected static files: a checkout's staticfiles/ is read by every other Django
# process of the machine (the test suite's WhiteNoise scans it), which must not see it rewritten.
STACK_STATIC_ROOT = Path(tempfile.gettempdir()) / f"cx-bench-static-{os.getpid()}"


@contextmanager
def django_ceiling(log_dir, *, bare: bool, web_workers=WEB_WORKERS):
    """gunicorn as the stack runs it, serving `bench.ceiling`: a view that does nothing, behind
    every middleware of the platform or (`bare`) behind none; yields the port."""
    port = free_port()
    env = {**_stack_env(port), "DJANGO_SETTINGS_MODULE": "bench.ceiling", "CEILING_BARE": "1" if bare else "0",
           "STATIC_ROOT": str(STACK_STATIC_ROOT)}
    with _process([sys.executable, "-m", "gunicorn", "cxplatform.wsgi:application", "--bind", f"{HOST}:{port}",
                   "--workers", str(web_workers), "--backlog", "2048"], env, log_dir, f"ceiling-{bare}"):
        _wait_for_http(port)
        yield port


@contextmanager
def production_stack(log_dir, *, broker_url=None, webs=1, web_workers=WEB_WORKERS, workers=1, worker_concurrency=2,
                     express=True):
    """gunicorn + worker + the express worker (mail, rollups, loop) + beat as docker-compose runs
    them (Redis), or `webs` gunicorn and `workers` Celery processes on another broker; yields
    the web ports."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    ports = [free_port() for _ in range(webs)]
    env = _stack_env(ports[0])
    env["STATIC_ROOT"] = str(STACK_STATIC_ROOT)
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    python = sys.executable
    if not _static_collected:  # as the image is built: pages name their static files by the manifest
        subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        _static_collected.append(True)
    with ExitStack() as stack:
        for n, port in enumerate(ports):
            stack.enter_context(_process(
                [python, "-m", "gunicorn", "cxplatform.wsgi:application", "--bind", f"{HOST}:{port}",
                 "--workers", str(web_workers), "--backlog", "2048"], env, log_dir, f"web{n}"))
        for n in range(workers):
            stack.enter_context(_process(
                [python, "-m", "celery", "-A", "cxplatform", "worker", "--loglevel=WARNING",
                 f"--concurrency={worker_concurrency}", "--without-gossip", "--without-mingle",
                 "-n", f"bench{n}@%h"], env, log_dir, f"worker{n}"))
        if express:
            stack.enter_context(_process(
                [python, "-m", "celery", "-A", "cxplatform", "worker", "-Q", "mail,rollups,loop", "--loglevel=WARNING",
                 f"--concurrency={EXPRESS_CONCURRENCY}", "--without-gossip", "--without-mingle", "-n", "express@%h"],
                env, log_dir, "express"))
        stack.enter_context(_process(
            [python, "-m", "celery", "-A", "cxplatform", "beat", "--loglevel=WARNING",
             "--schedule", str(Path(log_dir) / "beat-schedule")], env, log_dir, "beat"))
        for port in ports:
            _wait_for_http(port)
        yield ports


# --- The load generator ----------------------------------------------------------------------

# A customer's phone: an opening is counted only for a person's browser (surveys/robots.py).
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
         "Mobile Safari/537.36")
LOCATION = re.compile(rb"\r\nLocation: ([^\r]+)\r\n", re.IGNORECASE)


async def _http(port, method, path, body=b""):
    reader, writer = await asyncio.open_connection(HOST, port)
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: {PHONE}\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    data = await reader.read()
    writer.close()
    status = int(data[9:12]) if len(data) >= 12 else 0
    found = LOCATION.search(data)
    return status, (found.group(1).decode() if found else ""), data


class Customers:
    """Personal links not yet used (one customer answers once: the contact policy would skip a
    second invitation)."""

    def __init__(self, paths):
        self.paths = paths
        self.next = 0

    def take(self):
        path = self.paths[self.next]
        self.next += 1
        return path


def _comment() -> str:
    """A comment as customers write them, each one different: a worker remembers its last readings
    (cxplatform/textinsight/reading.py), and seven texts repeated would measure that memory, not
    the reading of an answer's comment (once for the answer, once for its inbox item)."""
    base = random.choice(COMMENTS)
    return f"{base} #{random.randint(10_000, 999_999)}" if base else ""  # an order number


TOKEN = re.compile(rb'name="token" value="([^"]+)"')
THANKS = b'<div class="card" role="status">'  # the thank-you page's card


async def _customer(port, link_path, timings, errors):
    """A customer: the personal link, which serves the page at once, and the answer, whose reply is
    the thank-you page (docs/adr/0011). A release that still redirects (to the visit's address,
    to the thank-you page) is followed, so the same client measures the one before."""
    from urllib.parse import parse_qs, urlencode

    start = time.perf_counter()
    status, visit, page = await _http(port, "GET", link_path)
    if status == 302:  # an earlier release: to the address with the visit's token
        link_path = visit
        status, _, page = await _http(port, "GET", visit)
    token = TOKEN.search(page)
    if status != 200 or b"<form" not in page or token is None:
        errors.append(f"page {status}")
        return
    shown = time.perf_counter()
    query = parse_qs(urlsplit(link_path).query)
    body = urlencode({"token": token.group(1).decode(), "c": query.get("c", [""])[0], "score": random.randint(0, 10),
                      "comment": _comment()}).encode()
    status, thanks, reply = await _http(port, "POST", urlsplit(link_path).path, body)
    answered = time.perf_counter()
    if status == 302 and "/thanks/" in thanks:  # an earlier release: the thank-you page after a redirect
        status, _, reply = await _http(port, "GET", thanks)
    if status != 200 or THANKS not in reply:
        errors.append(f"answer {status}")
        return
    done = time.perf_counter()
    timings.append((shown - start, answered - shown, done - start))


async def _web_phase(ports, customers, concurrency, seconds):
    timings, errors = [], []
    deadline = time.perf_counter() + seconds

    async def one_client(port):
        while time.perf_counter() < deadline:
            try:
                await _customer(port, customers.take(), timings, errors)
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)

    started = time.perf_counter()
    await asyncio.gather(*(one_client(ports[n % len(ports)]) for n in range(concurrency)))
    return timings, errors, time.perf_counter() - started


def web_phase(ports, customers, concurrency, seconds):
    return asyncio.run(_web_phase(ports, customers, concurrency, seconds))


async def _nothing_phase(port, concurrency, seconds):
    served, errors = [0], []
    deadline = time.perf_counter() + seconds

    async def one_client():
        while time.perf_counter() < deadline:
            status, _, _ = await _http(port, "GET", "/nothing/")
            if status == 200:
                served[0] += 1
            else:
                errors.append(status)

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    # Only answered requests count; a few refused ones (a reset under load) would only lower it.
    assert served[0] > 10 * len(errors), errors[:5]
    return served[0] / (time.perf_counter() - started)


def ceiling_phase(port, concurrency, seconds) -> float:
    """Requests per second of the view that does nothing, at `concurrency`."""
    return asyncio.run(_nothing_phase(port, concurrency, seconds))


# --- Where the CPU goes ----------------------------------------------------------------------

STACK_PIDS: set[int] = set()  # the processes this benchmark started (their children belong to them)
CPU_GROUPS = {  # group → does a process of the stack match its command line; first match wins
    "web": lambda cmd: "gunicorn" in cmd,
    "express_worker": lambda cmd: " worker " in cmd and " express@" in cmd,
    "workers": lambda cmd: " worker " in cmd,
    "beat": lambda cmd: " beat " in cmd,
}


def _backends() -> set[int]:
    """The PostgreSQL processes serving the benchmark's database now (the stack's connections and
    the benchmark's own), not the server's others."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cursor.fetchall()}


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) each process of the stack has used so far, with its group, from
    /proc: what the benchmark started (gunicorn, the workers, beat, with their children), the
    database's backends for its database, Redis, and the load generator itself."""
    tick = os.sysconf("SC_CLK_TCK")
    backends = _backends()
    redis_port = f":{urlsplit(REDIS_URL).port or 6379}"
    seen = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_text()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2:].split()
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        # ppid, (utime + stime), start time (a pid reused meanwhile is another process)
        seen[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, fields[19],
                                       comm, f" {cmd} ")
    used = {}
    for pid, (_ppid, seconds, started, comm, cmd) in seen.items():
        root, ancestor = None, pid
        for _depth in range(10):
            if ancestor in STACK_PIDS:
                root = ancestor
                break
            ancestor = seen.get(ancestor, (0,))[0]
        group = (next((name for name, matches in CPU_GROUPS.items() if matches(seen[root][4])), None)
                 if root is not None else
                 "postgres" if pid in backends else
                 "redis" if comm.startswith("redis-server") and redis_port in cmd else
                 "load_generator" if pid == os.getpid() else None)
        if group:
            used[(pid, started)] = (group, seconds)
    return used


def machine_cpu() -> tuple[float, float]:
    """The whole machine's busy and total CPU seconds so far (/proc/stat, every core): the one
    measure that sees pgbench and its short-lived backends as well as the stack."""
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy / tick, (busy + idle + iowait) / tick


def busy_between(before, after) -> tuple[float, float]:
    """Busy CPU seconds between two `machine_cpu` samples, and the share of the machine they were."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy, busy / total if total else 0.0


def cpu_between(before, after) -> dict[str, float]:
    """CPU seconds by group between two samples: each process's own difference (a process started
    meanwhile counts from zero; one that ended meanwhile — a database connection closed — is
    left out, so the figures are a floor)."""
    spent = dict.fromkeys([*CPU_GROUPS, "postgres", "redis", "load_generator"], 0.0)
    for process, (group, seconds) in after.items():
        earlier = before.get(process)
        spent[group] += seconds - (earlier[1] if earlier and earlier[0] == group else 0.0)
    return spent


def cost_in_raw_inserts(*, raw_cpu_s: float, raw_share: float, busy_s: float, share: float, customers: int,
                        cpu: dict[str, float]) -> dict:
    """What a customer costs the machine, counted in raw inserts of the same minutes: with both
    phases using the whole machine, the ratio to the raw rate is one over it, so the 0.05× target
    lets a customer cost at most 20 raw inserts' CPU, wherever it is spent. The web's own share
    alone says what any work off the web (the workers) could still win."""
    per_customer = busy_s / max(customers, 1)
    per_insert = max(raw_cpu_s, 1e-9)
    return {
        "machine_cpu_ms_per_raw_insert": round(raw_cpu_s * 1000, 3),
        "machine_busy_share_raw": round(raw_share, 2),
        "machine_cpu_ms_per_customer": round(per_customer * 1000, 1),
        "machine_busy_share_customers": round(share, 2),
        "customer_costs_raw_inserts": round(per_customer / per_insert, 1),
        "web_alone_costs_raw_inserts": round(cpu.get("web", 0.0) / max(customers, 1) / per_insert, 1),
        # The ratio is (share / per_customer) / (raw_share / per_insert): at 0.05×, this many.
        "target_allows_raw_inserts": round(share / max(raw_share, 1e-9) / 0.05, 1),
    }


# --- PostgreSQL's own rate -------------------------------------------------------------------

def raw_phase(script, concurrency, seconds):
    """pgbench: `concurrency` clients each inserting one response row and committing, for
    `seconds`; returns rows/s (excluding connection time), the clients actually used, and the
    machine's busy CPU seconds per row and busy share while it ran."""
    import environ

    db = environ.Env.db_url_config(BENCH_DB)
    clients = min(concurrency, RAW_MAX_CLIENTS)
    # Debian keeps it beside the server, off the PATH.
    pgbench = shutil.which("pgbench") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))[-1]
    before = machine_cpu()
    out = subprocess.run(
        [pgbench, "-n", "-f", script, "-c", str(clients), "-j", "2", "-T", str(seconds),
         "-h", db["HOST"] or HOST, "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "postgres", db["NAME"]],
        capture_output=True, text=True, check=True,
    ).stdout
    busy, share = busy_between(before, machine_cpu())
    rows = int(re.search(r"number of transactions actually processed: (\d+)", out).group(1))
    return float(re.search(r"tps = ([\d.]+)", out).group(1)), clients, busy / max(rows, 1), share


# --- Lag -------------------------------------------------------------------------------------

class Sampler(threading.Thread):
    """Every half second: answers recorded so far, and answers the rollups count."""

    def __init__(self, survey_id):
        super().__init__(daemon=True)
        self.survey_id = survey_id
        self.samples = []
        self.stopping = threading.Event()

    def run(self):
        import psycopg2

        connection = psycopg2.connect(BENCH_DB)
        connection.autocommit = True
        with connection.cursor() as cursor:
            while not self.stopping.is_set():
                cursor.execute(
                    "SELECT (SELECT count(*) FROM surveys_response WHERE survey_id = %s AND score IS NOT NULL "
                    "        AND status <> 'started'), "
                    "       (SELECT coalesce(sum(responses), 0) FROM metrics_dailyrollup WHERE survey_id = %s)",
                    [self.survey_id, self.survey_id])
                recorded, counted = cursor.fetchone()
                self.samples.append((time.monotonic(), recorded, counted))
                self.stopping.wait(0.5)
        connection.close()

    def lags(self):
        """For each sample, how long until the rollups counted what had been recorded by then."""
        lags = []
        for i, (t, recorded, _counted) in enumerate(self.samples):
            for t2, _r, counted in self.samples[i:]:
                if counted >= recorded:
                    lags.append(t2 - t)
                    break
            else:
                lags.append(None)  # never caught up while sampled
        return lags


def _quantiles(values):
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def q(p):
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return {"n": len(ordered), "p50": round(q(0.50), 3), "p95": round(q(0.95), 3), "p99": round(q(0.99), 3),
            "max": round(ordered[-1], 3)}


def _ms(values):
    found = _quantiles([v * 1000 for v in values])
    return {k: (round(v, 1) if k != "n" else v) for k, v in found.items()}


def worker_lags(survey_id):
    """Seconds from each answer to its case and to its thank-you e-mail."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM i.created_at - r.submitted_at) FROM feedback_feedbackitem i "
            "JOIN surveys_response r ON r.id = i.response_id WHERE r.survey_id = %s AND i.kind = 'case'",
            [survey_id])
        cases = [float(v) for (v,) in cursor.fetchall()]
        cursor.execute(
            "SELECT extract(epoch FROM t.sent_at - r.submitted_at) FROM feedback_promoterthanks t "
            "JOIN surveys_response r ON r.id = t.response_id WHERE r.survey_id = %s AND t.sent_at IS NOT NULL",
            [survey_id])
        thanks = [float(v) for (v,) in cursor.fetchall()]
    return {"case": _quantiles(cases), "thank_you_email": _quantiles(thanks)}


# --- The run ---------------------------------------------------------------------------------

def _setup(customer_count):
    from cxplatform.models import Customer, Organization
    from feedback.models import CloseLoopRule
    from journeys.models import Touchpoint
    from surveys import links
    from surveys.models import Distribution, Survey
    from surveys.services import save_survey

    stamp = uuid.uuid4().hex[:8]
    org = Organization.objects.create(slug=f"bench-load-{stamp}", name=f"Bench load {stamp}")
    survey = save_survey(Survey(organization=org, name="Bench NPS", survey_type="nps", status="active"), {},
                         fill_defaults=True)
    raw_survey = save_survey(Survey(organization=org, name="Raw reference", survey_type="nps", status="active"),
                             {}, fill_defaults=True)
    touchpoint = Touchpoint.objects.create(organization=org, name="Delivery")
    link = Distribution.objects.create(organization=org, survey=survey, name="Invitation", touchpoint=touchpoint)
    raw_link = Distribution.objects.create(organization=org, survey=raw_survey, name="Raw", touchpoint=touchpoint)
    CloseLoopRule.objects.create(organization=org, name="Call back detractors", band="unhappy")
    CloseLoopRule.objects.create(organization=org, name="Thank promoters", position=1, band="promoter",
                                 action=CloseLoopRule.Action.THANK)
    people = Customer.objects.bulk_create(
        [Customer(organization=org, external_id=f"c{n}", email=f"c{n}@example.com", language="en")
         for n in range(customer_count)], batch_size=5000)
    paths = [f"/s/{link.public_id}/?c={links.sign(link, customer)}" for customer in people]
    return org, survey, raw_survey, raw_link, touchpoint, paths


def _pgbench_script(directory, org, raw_survey, raw_link, touchpoint):
    script = Path(directory) / "insert_answer.sql"
    script.write_text(
        "INSERT INTO surveys_response (organization_id, survey_id, distribution_id, touchpoint_id, token, "
        "client_key, language, score, band, comment, hidden_fields, status, source, started_at, submitted_at, "
        f"updated_at) VALUES ({org.pk}, {raw_survey.pk}, {raw_link.pk}, {touchpoint.pk}, gen_random_uuid(), '', "
        "'en', 7, 'passive', 'ok', '{}', 'completed', 'web', now(), now(), now());\n")
    return str(script)


def _pending(org) -> int:
    from cxplatform.models import EventDelivery

    return EventDelivery.objects.filter(event__organization=org, status=EventDelivery.Status.PENDING).count()


def _settled(org, survey) -> bool:
    """Every delivery done and no day waiting for its rebuild: a comment read late marks its day
    again after the answer is already counted, so counting responses alone can stop too early."""
    from metrics.models import DirtyDay

    return not _pending(org) and not DirtyDay.objects.filter(organization=org).exists() and _rollups_count_all(survey)


def run():
    from django.db import connection

    from surveys.models import Response

    expected_rate = 400 if not SMOKE else 50  # customers/s, only to make enough personal links
    customer_count = expected_rate * PHASE_SECONDS * ROUNDS * len(LEVELS) * 2 + 1000
    org, survey, raw_survey, raw_link, touchpoint, paths = _setup(customer_count)
    customers = Customers(paths)
    levels = {}
    with tempfile.TemporaryDirectory() as log_dir:
        script = _pgbench_script(log_dir, org, raw_survey, raw_link, touchpoint)
        with production_stack(log_dir) as ports:
            web_phase(ports, customers, 2, 1)  # warm every gunicorn worker up
            answered_before = Response.objects.filter(survey=survey, score__isnull=False).count()
            run_before = cpu_seconds()
            sampler = Sampler(survey.pk)
            sampler.start()
            for concurrency in LEVELS:
                raw_rates, web_rates, timings, errors, raw_clients = [], [], [], [], 0
                raw_cpu, raw_shares, web_busy, web_shares = [], [], 0.0, []
                cpu: dict[str, float] = {}
                for _round in range(ROUNDS):
                    rate, raw_clients, per_row, share = raw_phase(script, concurrency, PHASE_SECONDS)
                    raw_rates.append(rate)
                    raw_cpu.append(per_row)
                    raw_shares.append(share)
                    before, machine_before = cpu_seconds(), machine_cpu()
                    t, e, elapsed = web_phase(ports, customers, concurrency, PHASE_SECONDS)
                    busy, share = busy_between(machine_before, machine_cpu())
                    web_busy += busy
                    web_shares.append(share)
                    cpu = {group: cpu.get(group, 0.0) + seconds
                           for group, seconds in cpu_between(before, cpu_seconds()).items()}
                    timings += t
                    errors += e
                    web_rates.append(len(t) / elapsed)
                web, raw = statistics.mean(web_rates), statistics.mean(raw_rates)
                levels[concurrency] = {
                    "customers_per_s": round(web, 1),
                    "raw_inserts_per_s": round(raw, 1),
                    "raw_clients": raw_clients,
                    "ratio_to_raw": round(web / raw, 4),
                    "page_ms": _ms([t[0] for t in timings]),
                    "answer_ms": _ms([t[1] for t in timings]),
                    "customer_ms": _ms([t[2] for t in timings]),
                    "errors": len(errors),
                    "error_kinds": sorted(set(errors))[:5],
                    # CPU ms per customer served, by part, while the customers were served (the
                    # workers' backlog, worked off later, is in worker_cpu_ms_per_answer below).
                    "cpu_ms_per_customer": {group: round(seconds * 1000 / max(len(timings), 1), 1)
                                            for group, seconds in cpu.items()},
                    **cost_in_raw_inserts(raw_cpu_s=statistics.mean(raw_cpu), raw_share=statistics.mean(raw_shares),
                                          busy_s=web_busy, share=statistics.mean(web_shares),
                                          customers=len(timings), cpu=cpu),
                }
            load_ended = time.monotonic()
            # Let the workers drain: every delivery of the answers' events done, and the rollups
            # counting every answer recorded.
            recorded = Response.objects.filter(survey=survey, score__isnull=False).count()
            drain_deadline = time.monotonic() + (30 if SMOKE else 300)
            while time.monotonic() < drain_deadline:
                if sampler.samples and sampler.samples[-1][2] >= recorded and not _pending(org):
                    break
                time.sleep(0.5)
            drained = time.monotonic() - load_ended
            # Everything the workers did for the answers of the run (the raw phases between the
            # levels give them no work of their own), per answer.
            run_cpu = cpu_between(run_before, cpu_seconds())
            worker_cpu = {group: round(run_cpu[group] * 1000 / max(recorded - answered_before, 1), 1)
                          for group in ("workers", "express_worker", "beat")}
            time.sleep(1)
            sampler.stopping.set()
            sampler.join()
            lags = [lag for lag in sampler.lags() if lag is not None]
            caught_up = sampler.samples[-1][2] >= recorded if sampler.samples else False
        # The ceiling, at each level, against the raw rate measured beside that level's customers
        # minutes before (the machine may drift between): what Django itself serves on this
        # machine when the view does nothing.
        for bare in (False, True):
            with django_ceiling(log_dir, bare=bare) as port:
                ceiling_phase(port, 2, 1)
                for concurrency in LEVELS:
                    before = machine_cpu()
                    rates = [ceiling_phase(port, concurrency, PHASE_SECONDS) for _ in range(ROUNDS)]
                    busy, _share = busy_between(before, machine_cpu())
                    requests = statistics.mean(rates)
                    level = levels[concurrency]
                    label = "ceiling_no_middleware" if bare else "ceiling_every_middleware"
                    # A customer is at least two requests: the page and the answer.
                    level[label] = {
                        "requests_per_s": round(requests, 1),
                        "customers_per_s": round(requests / 2, 1),
                        "ratio_to_raw": round(requests / 2 / level["raw_inserts_per_s"], 4),
                        # Two requests of nothing, in the machine's CPU, counted in raw inserts.
                        "two_requests_cost_raw_inserts": round(
                            busy / max(sum(rates) * PHASE_SECONDS / 2, 1) * 1000
                            / max(level["machine_cpu_ms_per_raw_insert"], 1e-9), 1)}
    result = {
        "levels": levels,
        "event_lag_s": {
            "rollup": {**_quantiles(lags), "caught_up": caught_up},
            **worker_lags(survey.pk),
            "drain_after_load_s": round(drained, 1),
            "deliveries_pending_at_the_end": _pending(org),
        },
        "worker_cpu_ms_per_answer": worker_cpu,
        "answers": recorded,
    }
    with connection.cursor() as cursor:  # the raw reference rows have served
        cursor.execute("DELETE FROM surveys_response WHERE survey_id = %s", [raw_survey.pk])
    result["scale_out_on_rabbitmq"] = scale_out()
    return result


def _rollup_rows(survey):
    from metrics.models import DailyRollup

    fields = [f.name for f in DailyRollup._meta.concrete_fields if f.name not in ("id", "updated_at")]
    return sorted(tuple(str(v) for v in row) for row in DailyRollup.objects.filter(survey=survey).values_list(*fields))


def scale_out(concurrency=None, seconds=None):
    """Two gunicorn processes and two Celery workers on RabbitMQ against one database, at the
    web's full rate: answers counted once, cases opened once, figures equal to a rebuild."""
    from datetime import timedelta

    from django.utils import timezone

    from feedback.models import FeedbackItem
    from metrics import rollups
    from metrics.models import DailyRollup
    from surveys.models import Response
    from tests.workers import rabbitmq_vhost  # the one helper that makes (and removes) a vhost

    concurrency = concurrency or (4 if SMOKE else 50)
    seconds = seconds or PHASE_SECONDS
    org, survey, _raw_survey, _raw_link, _touchpoint, paths = _setup(size(400, 50) * seconds + 500)
    customers = Customers(paths)
    with tempfile.TemporaryDirectory() as log_dir, rabbitmq_vhost() as amqp, \
            production_stack(log_dir, broker_url=amqp, webs=2, web_workers=2, workers=2,
                             worker_concurrency=1) as ports:
        web_phase(ports, customers, 2, 1)
        timings, errors, elapsed = web_phase(ports, customers, concurrency, seconds)
        ended = time.monotonic()
        served = customers.next
        deadline = time.monotonic() + (30 if SMOKE else 300)
        while time.monotonic() < deadline and not _settled(org, survey):
            time.sleep(0.5)
        drained = time.monotonic() - ended
    answers = Response.objects.filter(survey=survey)
    unhappy = answers.filter(score__lte=6).count()
    cases = FeedbackItem.objects.filter(organization=org, kind=FeedbackItem.Kind.CASE)
    counted = _rollup_rows(survey)
    DailyRollup.objects.filter(survey=survey).delete()
    today = timezone.now().date()
    rollups.rebuild(org, today - timedelta(days=2), today + timedelta(days=2))
    return {
        "customers_per_s": round(len(timings) / elapsed, 1),
        "customers_served": served,
        "answers_recorded": answers.count(),
        "errors": len(errors),
        "unhappy_answers": unhappy,
        "cases": cases.count(),
        "answers_with_a_case": cases.values("response").distinct().count(),
        "rollups_equal_a_rebuild": counted == _rollup_rows(survey),
        "drain_after_load_s": round(drained, 1),
        "event_lag_s": worker_lags(survey.pk),
    }


def _rollups_count_all(survey) -> bool:
    from django.db.models import Sum

    from metrics.models import DailyRollup
    from surveys.models import Response

    counted = DailyRollup.objects.filter(survey=survey).aggregate(n=Sum("responses"))["n"] or 0
    return counted >= Response.objects.filter(survey=survey, score__isnull=False).exclude(status="started").count()
