"""On PostgreSQL the CSV export is written by the database (`COPY (SELECT …) TO STDOUT`, each cell
an SQL expression); the workbook, and the CSV on other databases, from the rows Python makes
(`exporting.table`). Both must say the same, cell for cell, for every kind of question and every
awkward value a respondent or an integration can store: that is what these tests hold."""

import csv
import io
from datetime import UTC, datetime

import pytest

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
            Answer(response=response, question=questions["matrix"], grid={"ease": at % 5} if at % 2 else
                   {"ease": 3, "=cost": 1}),
            Answer(response=response, question=questions["yes_no"], choices=["yes" if at % 2 else "no"]),
            Answer(response=response, question=questions["consent"], choices=["agree"] if at % 3 else []),
            Answer(response=response, question=questions["archived"], text=values),
        ])
    return survey


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
    assert len(copied) == len(AWKWARD) + 1
    assert copied[0] == expected[0]
    # Every cell but the one nested hidden field (PostgreSQL orders a JSON object's keys its own way).
    nested = expected[0].index("hidden_nested")
    for theirs, ours in zip(copied[1:], expected[1:], strict=True):
        assert theirs[:nested] + theirs[nested + 1:] == ours[:nested] + ours[nested + 1:]
        assert (theirs[nested] == "") == (ours[nested] == "")


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
    assert column["matrix__ease"][0] == "3" and "1" in column["matrix__=cost"]
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
