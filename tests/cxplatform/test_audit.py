"""`make audit` says what it really audited: a fake package registry on loopback stands in for
PyPI (these machines reach no vulnerability database), so each verdict is checked for real."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from scripts import audit

PROJECTS = {
    "goodpkg": {"info": {"version": "1.0"}, "vulnerabilities": []},
    "badpkg": {"info": {"version": "2.0"}, "vulnerabilities": [
        {"id": "GHSA-xxxx-yyyy-zzzz", "fixed_in": ["2.0.1"], "withdrawn": None},
        {"id": "PYSEC-2020-1", "fixed_in": [], "withdrawn": "2021-01-01T00:00:00Z"}]},
    "oldpkg": {"info": {"version": "3.0"}, "vulnerabilities": []},
    "pip": {"info": {"version": "99"}, "vulnerabilities": []},
}


class Registry(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 — http.server's name
        parts = self.path.strip("/").split("/")  # pypi/<name>/json
        body = PROJECTS.get(parts[1]) if len(parts) == 3 and parts[2] == "json" else None
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(json.dumps(body or {"message": "Not Found"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def registry(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Registry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(audit, "PYPI_URL", f"http://127.0.0.1:{server.server_port}/pypi")
    monkeypatch.setattr(audit, "OSV_URL", "http://127.0.0.1:9/v1/query")  # nothing listens there
    yield
    server.shutdown()


def run(monkeypatch, capsys, packages):
    monkeypatch.setattr(audit, "installed", lambda: packages)
    status = audit.main([])
    return status, capsys.readouterr().out


def test_everything_current_and_clean_is_the_only_all_clear(registry, monkeypatch, capsys):
    status, out = run(monkeypatch, capsys, {"goodpkg": "1.0"})
    assert status == 0 and "No known vulnerabilities in any installed package." in out


def test_a_known_vulnerability_fails_and_is_named_withdrawn_ones_are_not(registry, monkeypatch, capsys):
    status, out = run(monkeypatch, capsys, {"goodpkg": "1.0", "badpkg": "2.0"})
    assert status == 1
    assert "VULNERABLE  badpkg 2.0: GHSA-xxxx-yyyy-zzzz (fixed in 2.0.1)" in out
    assert "PYSEC-2020-1" not in out


def test_what_no_database_covers_is_said_not_audited_never_clean(registry, monkeypatch, capsys):
    status, out = run(monkeypatch, capsys, {"goodpkg": "1.0", "oldpkg": "2.5", "unknownpkg": "1"})
    assert status == 2
    assert "oldpkg 2.5: the registry lists vulnerabilities for 3.0 only" in out
    assert "unknownpkg 1: the registry did not answer" in out
    assert "No known vulnerabilities in any installed package." not in out
    assert "the others were NOT audited" in out


def test_with_no_database_reachable_it_says_nothing_was_audited(monkeypatch, capsys):
    monkeypatch.setattr(audit, "PYPI_URL", "http://127.0.0.1:9/pypi")
    monkeypatch.setattr(audit, "OSV_URL", "http://127.0.0.1:9/v1/query")
    status, out = run(monkeypatch, capsys, {"goodpkg": "1.0"})
    assert status == 2 and "NOTHING WAS AUDITED" in out
