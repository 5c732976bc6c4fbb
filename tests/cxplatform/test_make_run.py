"""`make run`'s steps on the embedded default (SQLite file, tasks in-process), from nothing."""

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from cxplatform.demo import DEMO_PASSWORD
from tests.workers import _wait_for_port, free_port

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_default_migrates_loads_demo_and_serves_the_dashboard(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    demo = subprocess.run([*manage, "load_demo"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert "manager" in demo.stdout and DEMO_PASSWORD in demo.stdout  # the printed login

    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, timeout=30)
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode(
            {"username": "manager", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token, "next": "/"}
        ).encode()
        request = urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"})
        dashboard = opener.open(request)
        body = dashboard.read().decode()
        assert dashboard.geturl() == f"{base}/"
        assert "VoltRide Scooters" in body and "Dashboard" in body
        health = opener.open(f"{base}/healthz").read().decode()
        assert '"broker": "eager"' in health
    finally:
        server.terminate()
        server.wait(10)
