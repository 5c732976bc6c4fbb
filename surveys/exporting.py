"""A survey's responses as a spreadsheet: CSV (streamed) and XLSX, with the same columns.

Respondents type what they like, and a spreadsheet runs a cell that starts with "=" (or "+",
"-", "@", a tab or a carriage return) as a formula: `neutralise()` makes every exported cell
inert, in both formats.
"""

import csv
import io
import json
import tempfile
from collections.abc import Callable
from itertools import islice

from django.db import connections
from django.db.models import CharField, F, Func
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cxplatform.personal_data import pseudonym_of

from . import selectors
from .models import Answer, Question

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


def _answer_cells(questions, answers: dict) -> list:
    """A response's answer columns; `answers` maps a question's id to its
    (number, importance, text, choices), as `_answers_of` reads them."""
    cells = []
    for question in questions:
        answer = answers.get(question.pk)
        if answer is None:
            cells.append(None)
        elif question.kind in _NUMBER_KINDS:
            cells.append(answer[0])
        elif question.kind in _CHOICE_KINDS:
            cells.append(neutralise("|".join(str(c) for c in answer[3] or [])))
        else:
            cells.append(neutralise(answer[2]))
        if question.ask_importance:
            cells.append(answer[1] if answer else None)
    return cells


_NUMBER_KINDS = (Question.Kind.CSI_ATTRIBUTE, Question.Kind.RATING)
_CHOICE_KINDS = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE)
# One export row's fields, read as tuples (no model instances: the export of a million rows
# spends its time here). Index 0 is the id the answers are fetched by.
_FIELDS = (
    "id", "token", "submitted_at", "status", "score", "band", "comment", "language", "touchpoint__name",
    "channel__name", "distribution__name", "customer_id", "customer__organization_id", "customer__external_id",
    "customer__email", "source", "hidden_fields",
)


def _answers_of(response_ids: list[int]) -> dict[int, dict[int, tuple]]:
    answers: dict[int, dict[int, tuple]] = {}
    rows = Answer.objects.filter(response_id__in=response_ids).values_list(
        "response_id", "question_id", "number", "importance", "text", "choices")
    for response_id, question_id, *values in rows:
        answers.setdefault(response_id, {})[question_id] = values
    return answers


def _row(values: tuple, questions, hidden: list[str], answers: dict, personal: bool, pseudonyms: dict) -> list:
    (_id, token, submitted_at, status, score, band, comment, language, touchpoint, channel, distribution,
     customer_id, customer_org, external_id, email, source, fields) = values
    if personal:
        who = [neutralise(external_id), neutralise(email)]
    else:
        if customer_id not in pseudonyms:
            pseudonyms[customer_id] = pseudonym_of(customer_org, customer_id) if customer_id else None
        who = [pseudonyms[customer_id]]
    fields = fields if isinstance(fields, dict) else {}
    # Only text that people typed can start like a formula: ids, dates, codes and numbers cannot.
    return [
        str(token),
        submitted_at.isoformat() if submitted_at else None,
        status,
        score,
        band,
        neutralise(comment),
        language,
        neutralise(touchpoint),
        neutralise(channel),
        neutralise(distribution),
        *who,
        source,
        *(neutralise(_flat(fields.get(key))) for key in hidden),
        *_answer_cells(questions, answers),
    ]


def row_chunks(survey, queryset, *, personal: bool = True, chunk_size: int | None = None):
    """The header (a chunk of one row), then the rows of `queryset` (from `selectors.responses`)
    in lists of up to `chunk_size`, read through a server-side cursor so that memory stays the
    same whatever the number of rows. Without `personal`, customers appear by pseudonym only.
    The one implementation of the export's columns: the streamed files and the export jobs'."""
    chunk_size = chunk_size or CHUNK_SIZE
    questions = selectors.questions(survey)
    hidden = hidden_keys(queryset)
    yield [header(questions, hidden, personal=personal)]
    tuples = queryset.prefetch_related(None).values_list(*_FIELDS).iterator(chunk_size=chunk_size)
    pseudonyms: dict = {}
    while chunk := list(islice(tuples, chunk_size)):
        answers = _answers_of([values[0] for values in chunk]) if questions else {}
        yield [_row(values, questions, hidden, answers.get(values[0], {}), personal, pseudonyms) for values in chunk]
        if len(pseudonyms) > chunk_size:
            pseudonyms.clear()


def table(survey, queryset, *, personal: bool = True):
    """The header, then one row per response of `queryset`: `row_chunks`, row by row."""
    for chunk in row_chunks(survey, queryset, personal=personal):
        yield from chunk


# --- Files ----------------------------------------------------------------------------------

def filename(survey, extension: str) -> str:
    return f"survey-{survey.pk}-responses-{timezone.now():%Y%m%d-%H%M}.{extension}"


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_response(survey, queryset, *, personal: bool = True) -> StreamingHttpResponse:
    """UTF-8 with a byte-order mark, so Excel opens Cyrillic and Latvian text correctly."""

    def lines():
        yield "\ufeff"
        for chunk in row_chunks(survey, queryset, personal=personal):
            yield _csv_text(chunk)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(survey, "csv")}"'
    return response


def write_csv(survey, queryset, file, *, personal: bool = True, on_chunk: Callable[[int], None] | None = None) -> int:
    """The CSV (as `csv_response` streams it) written to the binary `file` chunk by chunk; returns
    the rows written besides the header. `on_chunk(rows so far)` runs after each chunk."""
    written = 0
    file.write("\ufeff".encode())
    for number, chunk in enumerate(row_chunks(survey, queryset, personal=personal)):
        file.write(_csv_text(chunk).encode())
        if number:
            written += len(chunk)
            if on_chunk is not None:
                on_chunk(written)
    return written


def _xlsx_cell(sheet, value):
    if not isinstance(value, str):
        return value
    # XML cannot hold most control characters (openpyxl would refuse the whole file); removing them
    # may bring a formula character to the front, so the text is neutralised again.
    cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
    # Text is text: never a formula (a leading "=") or an error code ("#N/A").
    cell.data_type = "s"
    return cell


def write_xlsx(survey, queryset, file, *, personal: bool = True,
               on_chunk: Callable[[int], None] | None = None) -> int:
    """The workbook written to `file`; returns the rows written besides the header."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Responses")
    written = 0
    for number, chunk in enumerate(row_chunks(survey, queryset, personal=personal)):
        for cells in chunk:
            sheet.append([_xlsx_cell(sheet, value) for value in cells])
        if number:
            written += len(chunk)
            if on_chunk is not None:
                on_chunk(written)
    workbook.save(file)
    return written


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
