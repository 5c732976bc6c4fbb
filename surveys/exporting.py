"""A survey's responses as a spreadsheet: CSV (streamed) and XLSX, with the same columns.

Respondents type what they like, and a spreadsheet runs a cell that starts with "=" (or "+",
"-", "@", a tab or a carriage return) as a formula: `neutralise()` makes every exported cell
inert, in both formats.
"""

import csv
import json
import tempfile

from django.db import connections
from django.db.models import CharField, F, Func
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cxplatform.personal_data import pseudonym

from . import selectors
from .models import Question

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000
# Where the database cannot list JSON keys itself, the hidden-field columns come from this many rows.
HIDDEN_KEYS_SAMPLE = 1000

BASE_COLUMNS = [
    "response_id", "submitted_at", "status", "score", "band", "comment", "language", "touchpoint", "channel",
    "distribution", "customer_external_id", "customer_email", "source",
]
# Without the right to customers' personal data, one pseudonym stands for both customer columns.
PSEUDONYMOUS_COLUMNS = [c for c in BASE_COLUMNS if c != "customer_email"]
PSEUDONYMOUS_COLUMNS[PSEUDONYMOUS_COLUMNS.index("customer_external_id")] = "customer_pseudonym"


def neutralise(value):
    """`value` made safe for a spreadsheet cell: text that a spreadsheet would read as a formula
    gets a leading apostrophe, so it shows as typed and never runs. Other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- Rows -----------------------------------------------------------------------------------

def hidden_keys(queryset) -> list[str]:
    """The hidden-field names of the responses in `queryset`, sorted."""
    qs = queryset.order_by()
    if connections[qs.db].vendor == "postgresql":
        # One query over all rows, done by the database; rows whose JSON is not an object are skipped.
        keys = (
            qs.annotate(hidden_kind=Func(F("hidden_fields"), function="jsonb_typeof", output_field=CharField()))
            .filter(hidden_kind="object")
            .annotate(hidden_key=Func(F("hidden_fields"), function="jsonb_object_keys", output_field=CharField()))
            .values_list("hidden_key", flat=True)
            .distinct()
        )
        return sorted(keys)
    found = set()
    for fields in qs.values_list("hidden_fields", flat=True)[:HIDDEN_KEYS_SAMPLE]:
        if isinstance(fields, dict):
            found.update(str(k) for k in fields)
    return sorted(found)


def header(questions, hidden: list[str], *, personal: bool = True) -> list[str]:
    columns = [*(BASE_COLUMNS if personal else PSEUDONYMOUS_COLUMNS), *(f"hidden_{key}" for key in hidden)]
    for question in questions:
        columns.append(question.key)
        if question.ask_importance:
            columns.append(f"{question.key}__importance")
    return [neutralise(c) for c in columns]


def _flat(value):
    """A hidden-field value as one cell: numbers stay numbers, anything nested becomes JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _answer_value(question: Question, answer):
    if answer is None:
        return None
    if question.kind in (Question.Kind.CSI_ATTRIBUTE, Question.Kind.RATING):
        return answer.number
    if question.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE):
        return "|".join(str(c) for c in answer.choices or [])
    return answer.text


def row(response, questions, hidden: list[str], *, personal: bool = True) -> list:
    customer = response.customer
    who = ([customer.external_id, customer.email] if customer else [None, None]) if personal else \
        [pseudonym(customer) or None]
    fields = response.hidden_fields if isinstance(response.hidden_fields, dict) else {}
    answers = {a.question_id: a for a in response.answers.all()}
    cells = [
        str(response.token),
        response.submitted_at.isoformat() if response.submitted_at else None,
        response.status,
        response.score,
        response.band,
        response.comment,
        response.language,
        response.touchpoint.name if response.touchpoint else None,
        response.channel.name if response.channel else None,
        response.distribution.name if response.distribution else None,
        *who,
        response.source,
        *(_flat(fields.get(key)) for key in hidden),
    ]
    for question in questions:
        answer = answers.get(question.pk)
        cells.append(_answer_value(question, answer))
        if question.ask_importance:
            cells.append(answer.importance if answer else None)
    return [neutralise(c) for c in cells]


def table(survey, queryset, *, personal: bool = True):
    """The header, then one row per response of `queryset` (from `selectors.responses`), read
    from the database in chunks so a large export never sits in memory at once. Without
    `personal`, customers appear by pseudonym only."""
    questions = selectors.questions(survey)
    hidden = hidden_keys(queryset)
    yield header(questions, hidden, personal=personal)
    for response in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield row(response, questions, hidden, personal=personal)


# --- Files ----------------------------------------------------------------------------------

def filename(survey, extension: str) -> str:
    return f"survey-{survey.pk}-responses-{timezone.now():%Y%m%d-%H%M}.{extension}"


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a stream."""

    def write(self, value):
        return value


def csv_response(survey, queryset, *, personal: bool = True) -> StreamingHttpResponse:
    """UTF-8 with a byte-order mark, so Excel opens Cyrillic and Latvian text correctly."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for cells in table(survey, queryset, personal=personal):
            yield writer.writerow(cells)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(survey, "csv")}"'
    return response


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    # XML cannot hold most control characters (openpyxl would refuse the whole file); removing them
    # may bring a formula character to the front, so the text is neutralised again.
    cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
    # Text is text: never a formula (a leading "=") or an error code ("#N/A").
    cell.data_type = "s"
    return cell


def write_xlsx(survey, queryset, file, *, personal: bool = True) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Responses")
    for cells in table(survey, queryset, personal=personal):
        sheet.append([_xlsx_cell(sheet, value) for value in cells])
    workbook.save(file)


def xlsx_response(survey, queryset, *, personal: bool = True) -> FileResponse:
    # A write-only workbook keeps rows on disk, not in memory; the file is sent and then removed.
    file = tempfile.TemporaryFile()  # noqa: SIM115 -- it outlives this function: FileResponse closes it
    try:
        write_xlsx(survey, queryset, file, personal=personal)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return FileResponse(
        file, as_attachment=True, filename=filename(survey, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
