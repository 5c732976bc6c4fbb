"""Rows are locked FOR NO KEY UPDATE, never FOR UPDATE. A FOR UPDATE lock also blocks every
transaction that writes a row *referring* to the locked one (its foreign-key check takes FOR KEY
SHARE at commit): the loop's settlement held an answer FOR UPDATE while updating its inbox item,
the routing of that item held the item and waited at commit to check its reference to the answer,
and PostgreSQL killed one of them as a deadlock (a call-back case late by a back-off). A survey's
edit, a team's assignment or a theme's edit held that way stalled every answer, item or case of
theirs meanwhile. FOR NO KEY UPDATE still makes two lockers (or a locker and an UPDATE) wait for
each other; only the writers of referring rows go on."""

import ast
import re
import subprocess
import threading
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connection, connections, transaction

from feedback import loop
from surveys import services
from surveys.models import Answer, Distribution, Question, Response, ResponseTheme, Survey
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"select_for_update\(([^)]*)\)")
RAW = re.compile(r"FOR\s+(NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)


def _source_files():
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in tracked.stdout.splitlines()
            if not name.startswith(("tests/", "bench/")) and "/migrations/" not in name]


def test_every_row_lock_of_the_platform_is_no_key():
    found = []
    for path in _source_files():
        text = path.read_text()
        for match in CALL.finditer(text):
            if "no_key=" not in match.group(1):  # a FOR UPDATE is chosen in so many words (lock_version)
                found.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for sql in _strings(text):
            for match in RAW.finditer(sql):
                if not match.group(1):
                    found.append(f"{path.relative_to(ROOT)}: {match.group(0)} in SQL")
    assert not found, "lock with select_for_update(no_key=…) / FOR NO KEY UPDATE: " + ", ".join(found)


def _strings(source: str):
    """The string constants of a module (f-strings' parts too), but its docstrings: prose may name
    FOR UPDATE, SQL must not."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


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
    held_meanwhile = not release.is_set() and threads[0].is_alive()
    release.set()
    threads[0].join(15)
    assert holding.is_set() and held_meanwhile, "the settlement never held the answer"
    assert outcome == {"wrote": True}
    assert ResponseTheme.objects.filter(response=response).count() == 1


def _answer(world, kind):
    """An answer that refers to what is being deleted: the survey, its link, or its question."""
    response = factories.response(world["org"], world["link"], score=9)
    if kind == "question":
        Answer.objects.create(response=response, question=world["question"], text="Fast")
    return response


DELETIONS = {
    "survey": (Survey, lambda world: services.delete_survey(world["survey"])),
    "link": (Distribution, lambda world: services.delete_distribution(world["link"])),
    "question": (Question, lambda world: services.delete_question(question=world["question"])),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", DELETIONS)
def test_an_answer_arriving_while_its_survey_is_deleted_is_never_deleted_with_it(org_a, kind):
    """Deleting a survey, link or question nobody answered checks for answers, then deletes: an
    answer committed between the two would go with it. The deletion's lock (FOR UPDATE, not NO KEY)
    holds the answer's commit back until it is done (here: the answer gives up)."""
    model, delete = DELETIONS[kind]
    survey = factories.survey(org_a, "nps")
    world = {"org": org_a, "survey": survey, "link": factories.distribution(org_a, survey),
             "question": factories.question(org_a, survey, kind=Question.Kind.TEXT, key="why")}
    checked, tried, outcome = threading.Event(), threading.Event(), {}
    real_delete = model.delete

    def delete_after_the_answer(self, *args, **kwargs):
        checked.set()  # nothing referred to it: now the answer tries to commit
        tried.wait(10)
        return real_delete(self, *args, **kwargs)

    def deletion():
        try:
            with mock.patch.object(model, "delete", delete_after_the_answer):
                outcome["deletion"] = delete(world)
        finally:
            connections.close_all()

    def answering():
        try:
            assert checked.wait(10), "the deletion never checked"
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                outcome["answer"] = _answer(world, kind).pk
        except OperationalError:
            outcome.pop("answer", None)
            outcome["refused"] = True
        finally:
            tried.set()
            connections.close_all()

    threads = [threading.Thread(target=deletion), threading.Thread(target=answering)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome.get("deletion") == "deleted" and outcome.get("refused"), outcome
    assert not Response.objects.exists() and not model._base_manager.filter(pk=world[kind].pk).exists()
