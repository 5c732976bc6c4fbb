"""Rows are locked FOR NO KEY UPDATE, never FOR UPDATE. A FOR UPDATE lock also blocks every
transaction that writes a row *referring* to the locked one (its foreign-key check takes FOR KEY
SHARE at commit): the loop's settlement held an answer FOR UPDATE while updating its inbox item,
the routing of that item held the item and waited at commit to check its reference to the answer,
and PostgreSQL killed one of them as a deadlock (a call-back case late by a back-off). A survey's
edit, a team's assignment or a theme's edit held that way stalled every answer, item or case of
theirs meanwhile. FOR NO KEY UPDATE still makes two lockers (or a locker and an UPDATE) wait for
each other; only the writers of referring rows go on."""

import re
import subprocess
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections, transaction

from feedback import loop
from surveys.models import ResponseTheme
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"select_for_update\(([^)]*)\)")
RAW = re.compile(r"FOR\s+(NO\s+KEY\s+)?UPDATE\b")


def _source_files():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in tracked.stdout.splitlines()
            if not name.startswith(("tests/", "bench/")) and "/migrations/" not in name]


def test_every_row_lock_of_the_platform_is_no_key():
    found = []
    for path in _source_files():
        text = path.read_text()
        for match in CALL.finditer(text):
            if "no_key=True" not in match.group(1):
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for match in RAW.finditer(text):
            if not match.group(1):
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)} in SQL")
    assert not found, "lock with select_for_update(no_key=True) / FOR NO KEY UPDATE: " + ", ".join(found)


@pytest.mark.django_db(transaction=True)
def test_a_write_referring_to_an_answer_goes_on_while_its_settlement_holds_it(org_a):
    """The settlement's lock on the answer (loop._response) lets the comment's reading write the
    answer's themes meanwhile; with FOR UPDATE the themes' commit waited on it (here: gave up)."""
    response = factories.response(org_a, score=3, comment="Courier late")
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def settlement():
        try:
            with transaction.atomic():
                assert loop._response(response.pk, lock=True) is not None
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    def reading():
        try:
            holding.wait(10)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                ResponseTheme.objects.create(organization=org_a, response=response, phrase="courier", sentiment=-1)
            outcome["wrote"] = True
        except OperationalError as error:
            outcome["error"] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=settlement), threading.Thread(target=reading)]
    for thread in threads:
        thread.start()
    threads[1].join(15)
    release.set()
    threads[0].join(15)
    assert outcome == {"wrote": True}
    assert ResponseTheme.objects.filter(response=response).count() == 1
