"""On PostgreSQL the CSV export is written by the database (`COPY (SELECT …) TO STDOUT`, each cell
an SQL expression); the workbook, and the CSV on other databases, from the rows Python makes
(`exporting.table`). Both must say the same, cell for cell, for every kind of question and every
awkward value a respondent or an integration can store: that is what these tests hold."""

import csv
import io
import json
import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from cxplatform.personal_data import pseudonym_of
from surveys import exporting, selectors
from surveys.models import Answer, Question, Response
from tests import factories

pytestmark = pytest.mark.django_db

# Text a respondent or an integration may store: formulas of every kind, quotes, separators,
# line breaks (a browser's "\r\n", a lone "\r"), empties, Cyrillic and Latvian letters.
AWKWARD = ["=1+1", "+7 900", "-5", "@SUM(A1)", "\tTab", "\rreturn", 'say "hi", ok', "line\r\nbreak",
           "lone\rreturn", "", " spaced ", "Курьер опоздал", "Ļoti labi", "\\.", "a;b > c"]


@pytest.fixture
def survey(org_a):
    survey = factories.survey(org_a, "nps")
    q = lambda kind, key, **fields: factories.question(org_a, survey, kind, key=key, **fields)  # noqa: E731
    choices = [{"value": v, "label": {"en": v}} for v in ("price", "=staff", "speed")]
    questions = {
        "text": q(Question.Kind.TEXT, "text"),
        "csi": q(Question.Kind.CSI_ATTRIBUTE, "csi", ask_importance=True),
        "rating": q(Question.Kind.RATING, "rating", scale_min=0, scale_max=10),
        "single": q(Question.Kind.SINGLE_CHOICE, "single", choices=choices, allow_other=True),
        "multiple": q(Question.Kind.MULTIPLE_CHOICE, "multiple", choices=choices, allow_other=True),
        "ranking": q(Question.Kind.RANKING, "ranking", choices=choices),
        "matrix": q(Question.Kind.MATRIX, "matrix", rows=[{"value": r, "label": {"en": r}} for r in ("ease", "=cost")]),
        "yes_no": q(Question.Kind.YES_NO, "yes_no"),
        "consent": q(Question.Kind.CONSENT, "consent"),
        "statement": q(Question.Kind.STATEMENT, "statement"),
        "archived": q(Question.Kind.TEXT, "archived", archived_at=datetime(2025, 1, 1, tzinfo=UTC)),
    }
    link = factories.distribution(org_a, survey, channel=factories.channel(org_a))
    link.name, link.touchpoint.name, link.channel.name = "=link", "-touchpoint", "@channel"
    link.save(), link.touchpoint.save(), link.channel.save()
    customers = [factories.customer(org_a) for _ in range(3)]
    customers[0].external_id, customers[0].email = "=C1", "first@example.com"
    customers[0].save()
    for at, text in enumerate(AWKWARD):
        response = factories.response(
            org_a, link, score=at % 11, comment=text, customer=customers[at % 3] if at % 4 else None,
            submitted_at=datetime(2025, 3, 5, 12, 0, at, at * 1000 if at % 2 else 0, tzinfo=UTC),
            hidden_fields=[{"order": text, "n": at, "paid": at % 2 == 0}, {}, {"nested": {"b": 1, "a": [1, "x"]}},
                           "not an object", {"order": None}][at % 5],
            status=Response.Status.COMPLETED if at % 3 else Response.Status.STARTED,
            **({"band": ""} if at == 4 else {}),
        )
        if at % 7 == 6:
            continue  # answered nothing but the score
        values = AWKWARD[(at + 3) % len(AWKWARD)]
        Answer.objects.bulk_create([
            Answer(response=response, question=questions["text"], text=text),
            Answer(response=response, question=questions["csi"], number=1 + at % 5, importance=None if at % 3 else 4),
            Answer(response=response, question=questions["rating"], number=at % 11),
            Answer(response=response, question=questions["single"], choices=["_other"] if at % 2 else ["=staff"],
                   text=values if at % 2 else ""),
            Answer(response=response, question=questions["multiple"], choices=[] if at == 5 else ["price", text],
                   text=values),
            Answer(response=response, question=questions["ranking"], choices=["speed", "=staff", "price"]),
            Answer(response=response, question=questions["matrix"], grid=[{"ease": at % 5}, {"ease": 3, "=cost": 1},
                                                                          ["not", "an object"]][at % 3]),
            Answer(response=response, question=questions["yes_no"], choices=["yes" if at % 2 else "no"]),
            Answer(response=response, question=questions["consent"], choices=["agree"] if at % 3 else []),
            Answer(response=response, question=questions["archived"], text=values),
        ])
    # Left unfinished: no submission time, no answers.
    factories.response(org_a, link, score=3, status=Response.Status.STARTED, submitted_at=None,
                       comment="=started", customer=customers[1])
    return survey


@pytest.fixture
def elsewhere(org_b):
    """Another organization's responses: never in org_a's file."""
    link = factories.distribution(org_b, factories.survey(org_b, "nps"))
    return [factories.response(org_b, link, comment=f"=other org {n}", customer=factories.customer(org_b))
            for n in range(3)]


def python_rows(survey, queryset, personal):
    """The rows as Python makes them, written by Python's csv and read back: the text a file holds."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(exporting.table(survey, queryset, personal=personal))
    return list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))


def copied_file(survey, queryset, personal) -> bytes:
    assert exporting.copies(queryset)
    file = io.BytesIO()
    rows = exporting.write_csv(survey, queryset, file, personal=personal)
    assert rows == queryset.count()
    return file.getvalue()


def read(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("personal", [True, False])
def test_postgresql_writes_every_cell_as_python_does(org_a, survey, personal):
    queryset = selectors.responses(org_a, survey)
    expected = python_rows(survey, queryset, personal)
    copied = read(copied_file(survey, queryset, personal))
    assert len(copied) == len(AWKWARD) + 2
    assert copied[0] == expected[0]
    # Every cell but the one nested hidden field (PostgreSQL orders a JSON object's keys its own way).
    nested = expected[0].index("hidden_nested")
    for theirs, ours in zip(copied[1:], expected[1:], strict=True):
        assert theirs[:nested] + theirs[nested + 1:] == ours[:nested] + ours[nested + 1:]
        assert (json.loads(theirs[nested]) if theirs[nested] else None) == (
            json.loads(ours[nested]) if ours[nested] else None)


def test_the_awkward_values_are_there_and_inert(org_a, survey):
    """Not only the same as Python's: right. Formulas are inert, everything else is as stored."""
    rows = read(copied_file(survey, selectors.responses(org_a, survey), True))
    header, rows = rows[0], rows[1:]
    column = {name: [row[header.index(name)] for row in rows] for name in header}
    assert "'=1+1" in column["comment"] and "'-5" in column["comment"] and "'\rreturn" in column["comment"]
    assert "line\r\nbreak" in column["comment"] and "lone\rreturn" in column["comment"]
    assert 'say "hi", ok' in column["comment"] and "Курьер опоздал" in column["comment"]
    assert set(column["distribution"]) == {"'=link"} and set(column["touchpoint"]) == {"'-touchpoint"}
    assert "'=C1" in column["customer_external_id"] and "first@example.com" in column["customer_email"]
    # A ranking keeps its order; only a cell's start can be a formula, so "=staff" inside stays.
    assert set(column["ranking"]) - {""} == {"speed > =staff > price"}
    assert "'=staff" in column["single"] and "price; =1+1" in column["multiple"]
    assert "3" in column["matrix__ease"] and "1" in column["matrix__=cost"]
    assert "true" in column["hidden_paid"] and "0" in column["hidden_n"] and "'=1+1" in column["hidden_order"]
    assert "{" in "".join(column["hidden_nested"])
    assert column["archived"] and any(column["archived"])


def test_a_pseudonymous_file_names_no_customer(org_a, survey):
    raw = copied_file(survey, selectors.responses(org_a, survey), False)
    rows = read(raw)
    header = rows[0]
    assert "customer_email" not in header and "customer_external_id" not in header
    pseudonyms = {row[header.index("customer_pseudonym")] for row in rows[1:]}
    customers = Response.objects.filter(survey=survey).exclude(customer=None).values_list("customer_id", flat=True)
    assert pseudonyms == {pseudonym_of(org_a.pk, pk) for pk in customers} | {""}
    assert b"first@example.com" not in raw and b"=C1" not in raw


def test_another_organizations_responses_are_not_in_the_file(org_a, survey, elsewhere):
    raw = copied_file(survey, selectors.responses(org_a, survey), False)
    assert len(read(raw)) == len(AWKWARD) + 2 and b"other org" not in raw


def test_past_the_pseudonyms_one_copy_holds_the_file_is_made_from_pythons_rows(org_a, survey, monkeypatch):
    queryset = selectors.responses(org_a, survey)
    expected = python_rows(survey, queryset, False)
    monkeypatch.setattr(exporting, "PSEUDONYMS_IN_ONE_COPY", 2)  # the survey has three customers
    file = io.BytesIO()
    assert exporting.write_csv(survey, queryset, file, personal=False) == queryset.count()
    raw = file.getvalue()
    assert b"\r\n" in raw.replace(b"line\r\nbreak", b"")  # Python's line ends: Python wrote it
    assert read(raw) == expected


def test_a_filtered_export_copies_only_its_rows_in_order(org_a, survey):
    queryset = selectors.responses(org_a, survey, {"status": Response.Status.STARTED})
    copied = read(copied_file(survey, queryset, True))
    tokens = [str(t) for t in queryset.values_list("token", flat=True)]
    assert [row[0] for row in copied[1:]] == tokens and 0 < len(tokens) < len(AWKWARD)


def test_the_streamed_file_is_the_jobs_file(org_a, survey):
    queryset = selectors.responses(org_a, survey)
    response = exporting.csv_response(survey, queryset)
    streamed = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(streamed)
    assert response["Content-Disposition"].startswith("attachment;")
    assert streamed == copied_file(survey, queryset, True)


@pytest.mark.django_db(transaction=True)
def test_while_postgresql_copies_progress_is_told_from_another_thread(org_a, survey, monkeypatch):
    """The copying connection is busy until the last row: the job's heartbeat and progress run
    in a thread of their own, with their own connection, and can stop the COPY (taken over)."""
    monkeypatch.setattr(exporting, "BEAT_SECONDS", 0.02)
    monkeypatch.setattr(exporting, "COPY_BUFFER", 1)
    real_flush = exporting._Copying.flush

    def slow_flush(copying):  # a slow disk: a row every 20 ms
        threading.Event().wait(0.02)
        real_flush(copying)

    monkeypatch.setattr(exporting._Copying, "flush", slow_flush)
    queryset = selectors.responses(org_a, survey)
    told = []

    def progress(rows):
        with connection.cursor() as cursor:  # this thread's own connection answers at once
            cursor.execute("SELECT 1")
        told.append((rows, threading.current_thread().name))

    rows = exporting.write_csv(survey, queryset, io.BytesIO(), personal=True, on_chunk=progress)
    assert rows == len(AWKWARD) + 1
    assert told[-1] == (rows, threading.current_thread().name)  # the last, once every row is in
    during = [r for r, thread in told[:-1] if thread == "export-beat"]
    assert during and all(r <= rows for r in during) and during == sorted(during) and during[0] < rows

    class TakenOver(Exception):
        pass

    def taken_over(rows):
        if threading.current_thread().name == "export-beat" and rows >= 2:
            raise TakenOver  # noticed by the beat, midway: the COPY is cancelled, nothing more is written

    file = io.BytesIO()
    with pytest.raises(TakenOver):
        exporting.write_csv(survey, queryset, file, personal=True, on_chunk=taken_over)
    assert 3 <= len(read(file.getvalue())) < rows + 1  # the header and some rows, not all of them
    with connection.cursor() as cursor:  # the copying connection is usable afterwards
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_customer_who_answers_meanwhile_never_has_a_row_without_a_pseudonym(org_a, survey, monkeypatch):
    """The columns, the pseudonyms and the rows are read in one snapshot."""
    real = exporting._pseudonyms
    link = survey.distributions.get()

    def and_someone_answers(queryset):
        found = real(queryset)

        def answer():  # committed on a connection of its own, between the map and the rows
            factories.response(org_a, link, comment="meanwhile", customer=factories.customer(org_a))
            connection.close()

        thread = threading.Thread(target=answer)
        thread.start()
        thread.join()
        return found

    monkeypatch.setattr(exporting, "_pseudonyms", and_someone_answers)
    queryset = selectors.responses(org_a, survey)
    rows = read(copied_file_at(survey, queryset, before=queryset.count()))
    column = rows[0].index("customer_pseudonym")
    assert len(rows) == len(AWKWARD) + 2 and b"meanwhile" not in str(rows).encode()
    customers = Response.objects.filter(survey=survey).exclude(customer=None).exclude(comment="meanwhile")
    assert sum(1 for row in rows[1:] if row[column]) == customers.count()
    assert Response.objects.filter(comment="meanwhile").count() == 1  # it was there before the rows were read


def copied_file_at(survey, queryset, *, before: int) -> bytes:
    file = io.BytesIO()
    assert exporting.write_csv(survey, queryset, file, personal=False) == before
    return file.getvalue()
