"""An optional read replica for dashboards and exports (DATABASE_REPLICA_URL), against a real
streaming standby: the test starts its own primary and a replica of it (pg_basebackup), runs the
platform on both, pauses the replica's replay, and sees dashboards and exports read the replica
while every write still goes to the primary."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.workers import ROOT, free_port

pytestmark = [pytest.mark.worker, pytest.mark.xdist_group("clusters")]

BIN = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]) if Path("/usr/lib/postgresql").exists() else None


def as_postgres(*args, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)], check=True,
                          capture_output=True, text=True, **kwargs)


def start(data: Path, port: int, sockets: Path):
    as_postgres(BIN / "pg_ctl", "-D", data, "-l", data / "log", "-w", "-t", "60",
                "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start")


def stop(data: Path):
    subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                    "-w", "stop"], capture_output=True)


@pytest.fixture
def primary_and_replica():
    if BIN is None or shutil.which("runuser") is None:
        pytest.fail("PostgreSQL's server binaries and runuser are needed (.ci/run installs postgresql)")
    base = Path(tempfile.mkdtemp(prefix="cx-clusters-"))
    shutil.chown(base, "postgres")
    primary, replica = base / "primary", base / "replica"
    p_port, r_port = free_port(), free_port()
    as_postgres(BIN / "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "--no-sync")
    with open(primary / "pg_hba.conf", "a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    with open(primary / "postgresql.conf", "a") as conf:
        conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\nshared_buffers = 32MB\n")
    try:
        start(primary, p_port, base)
        as_postgres(BIN / "createdb", "-h", "127.0.0.1", "-p", p_port, "cx")
        env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{p_port}/cx"}
        env.pop("REDIS_URL", None)
        migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        as_postgres(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", p_port, "-U", "postgres", "-D", replica, "-R",
                    "--checkpoint=fast")
        start(replica, r_port, base)
        yield f"postgres://postgres@127.0.0.1:{p_port}/cx", f"postgres://postgres@127.0.0.1:{r_port}/cx"
    finally:
        stop(replica)
        stop(primary)
        shutil.rmtree(base, ignore_errors=True)


SCRIPT = r'''
import json, time, uuid
import django
django.setup()
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from cxplatform.models import Membership, Organization, Role
from django.contrib.auth import get_user_model
from surveys import services
from surveys.models import Distribution, Response, Survey

def caught_up():
    with connections["default"].cursor() as c:
        c.execute("SELECT pg_current_wal_lsn()")
        target = c.fetchone()[0]
    for _ in range(300):
        with connections["replica"].cursor() as c:
            c.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if c.fetchone()[0]:
                return
        time.sleep(0.1)
    raise SystemExit("the replica did not catch up")

def answer(link, score):
    sub = services.clean_submission(link.survey, {"score": str(score)}, complete=True)
    services.record_response(survey=link.survey, submission=sub, complete=True, language="en",
                             distribution=link, token=uuid.uuid4())

org = Organization.objects.create(name="Replica", slug="replica")
user = get_user_model().objects.create_user("manager", "m@x.example", "pw-123456-long")
Membership.objects.create(organization=org, user=user, role=Role.CX_MANAGER)
survey = services.save_survey(Survey(organization=org, name="NPS", survey_type="nps", status="active"), {},
                              fill_defaults=True)
link = Distribution.objects.create(organization=org, survey=survey, name="Link")
for score in (10, 9, 3):
    answer(link, score)
caught_up()
with connections["replica"].cursor() as c:
    c.execute("SELECT pg_wal_replay_pause()")
for score in (0, 1):  # written to the primary; the paused replica does not see them yet
    answer(link, score)

client = Client()
client.force_login(user)
out = {}
with CaptureQueriesContext(connections["replica"]) as on_replica:
    export = client.get(f"/surveys/{survey.pk}/responses/export.csv")
    out["export_rows"] = len(b"".join(export.streaming_content).decode().strip().splitlines()) - 1
    with CaptureQueriesContext(connections["default"]) as on_primary:
        out["dashboard"] = client.get("/").status_code
        summary = client.get("/api/v1/metrics/summary/").json()
    out["api_responses"] = summary["metrics"]["responses"]["value"]
    out["api_rollup_reads_on_primary"] = sum("metrics_dailyrollup" in q["sql"] for q in on_primary.captured_queries)
out["replica_queries"] = len(on_replica.captured_queries)
out["primary_answers"] = Response.objects.count()
# A write from a page while reads go to the replica: it lands on the primary.
out["digest_post"] = client.post("/metrics/digest/", {"on": "1"}).status_code
with connections["replica"].cursor() as c:
    c.execute("SELECT pg_wal_replay_resume()")
caught_up()
export = client.get(f"/surveys/{survey.pk}/responses/export.csv")
out["export_rows_after"] = len(b"".join(export.streaming_content).decode().strip().splitlines()) - 1
print(json.dumps(out))
'''


def test_dashboards_and_exports_read_the_replica_and_writes_go_to_the_primary(primary_and_replica):
    primary, replica = primary_and_replica
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxplatform.settings", "DATABASE_URL": primary,
           "DATABASE_REPLICA_URL": replica, "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["primary_answers"] == 5
    assert out["export_rows"] == 3  # the replica's copy: replay paused before the last two answers
    assert out["dashboard"] == 200 and out["replica_queries"] > 0
    # The API's figures too; every rollup query of both on the replica (grouping sets in raw SQL too).
    assert out["api_responses"] == 3 and out["api_rollup_reads_on_primary"] == 0
    assert out["digest_post"] in (200, 302)  # the replica is read-only: this write went to the primary
    assert out["export_rows_after"] == 5  # replay resumed: the replica caught up
