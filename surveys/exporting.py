"""A survey's responses as a spreadsheet: CSV and XLSX with the same columns, streamed in the
web request when small, or written to a file by an export job (`surveys.export_jobs`) when not.

Respondents type what they like, and a spreadsheet runs a cell that starts with "=" (or "+",
"-", "@", a tab or a carriage return) as a formula: `neutralise()` makes every exported cell
inert, in both formats.

On PostgreSQL a CSV is written by the database itself (`COPY (SELECT …) TO STDOUT`, each cell an
SQL expression: see "Written by PostgreSQL" below): Python's step per row cost 5× the database's
own rate (docs/adr/0022). The cells are the same, cell for cell, as the rows Python makes for the
workbook and on other databases; tests compare the two on every kind of question.
"""

import contextlib
import csv
import io
import json
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import CharField, F, FilteredRelation, Func, Q, TextField
from django.db.models.functions import Cast
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from cxplatform.personal_data import pseudonym_of
from cxplatform.tabular import FORMULA_FIRST, FORMULA_PREFIXES, neutralise

from . import selectors
from .models import Question

CHUNK_SIZE = 5000
COPY_BUFFER = 1 << 16  # bytes of CSV per write into the file while PostgreSQL copies
BEAT_SECONDS = 30  # an export job's heartbeat while PostgreSQL copies (stale after 10 minutes)
# A pseudonymous CSV looks its customers' pseudonyms up in a map sent with the COPY; past this many
# customers (about 1.5 MB of map) the file is made from Python's rows instead.
PSEUDONYMS_IN_ONE_COPY = 50_000
SPOOLED_BYTES = 8 << 20  # a streamed CSV held in memory up to this size, then on disk
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Where the database cannot list JSON keys itself, the hidden-field columns come from this many rows.
HIDDEN_KEYS_SAMPLE = 1000

BASE_COLUMNS = [
    "response_id", "submitted_at", "status", "score", "band", "comment", "language", "touchpoint", "channel",
    "distribution", "customer_external_id", "customer_email", "source",
]
# Without the right to customers' personal data, one pseudonym stands for both customer columns.
PSEUDONYMOUS_COLUMNS = [c for c in BASE_COLUMNS if c != "customer_email"]
PSEUDONYMOUS_COLUMNS[PSEUDONYMOUS_COLUMNS.index("customer_external_id")] = "customer_pseudonym"


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


def answer_columns(question) -> list[str]:
    """A question's columns (the import reads the same names): its key; a matrix one per row
    (`<key>__<row>`); `<key>__importance` and `<key>__other` where the question asks them."""
    key = question.key
    if question.kind == Question.Kind.MATRIX:
        return [f"{key}__{row}" for row in question.row_values]
    columns = [key]
    if question.ask_importance:
        columns.append(f"{key}__importance")
    if question.allow_other and question.kind in _OTHER_KINDS:
        columns.append(f"{key}__other")
    return columns


def header(questions, hidden: list[str], *, personal: bool = True) -> list[str]:
    columns = [*(BASE_COLUMNS if personal else PSEUDONYMOUS_COLUMNS), *(f"hidden_{key}" for key in hidden)]
    for question in questions:
        columns.extend(answer_columns(question))
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


# How each answer field fetched becomes cells: as it is (a number), text, a list of choices ("a; b"),
# a ranking ("a > b > c"), or a matrix's grid (a cell per row: a tuple (_GRID, rows)).
_AS_IS, _TEXT, _CHOICES, _RANKED, _GRID = 0, 1, 2, 3, 4
_BASE = ("token_text", "submitted_text", "status", "score", "band", "comment", "language", "touchpoint__name",
         "channel__name", "distribution__name")
_WHO = {True: ("customer__external_id", "customer__email"), False: ("customer_id", "customer__organization_id")}


class _IsoUtc(Func):
    """A timestamp as PostgreSQL's text, exactly as Python's `isoformat()` writes it in UTC
    (microseconds only when there are some): formatted by the database, as COPY would."""

    template = ("to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
                "date_trunc('second', %(expressions)s) = %(expressions)s THEN '' "
                "ELSE to_char(%(expressions)s AT TIME ZONE 'UTC', '.US') END || '+00:00'")
    output_field = CharField()


def _tuples(queryset, questions, hidden: list[str], personal: bool):
    """`queryset` as one tuple per row holding exactly the export's values, answers included: each
    question's answer is a join of its own (as PostgreSQL's COPY of the same columns would read
    them), so a row costs no model, no second query and no JSON it does not need. Returns the
    queryset and how each answer column becomes a cell."""
    postgresql = connections[queryset.db].vendor == "postgresql"
    # On PostgreSQL the id and the hidden fields come as the driver's text: no UUID or dict per row
    # only to print it (other databases store them differently and keep Django's conversion).
    qs = queryset.prefetch_related(None).annotate(
        token_text=Cast("token", CharField()) if postgresql else F("token"),
        submitted_text=_IsoUtc("submitted_at") if postgresql else F("submitted_at"),
        hidden_text=Cast("hidden_fields", TextField()) if postgresql else F("hidden_fields"),
    )
    fields, kinds = [*_BASE, *_WHO[personal], "source", *(["hidden_text"] if hidden else [])], []
    for question in questions:
        alias = f"answer_{question.pk}"
        qs = qs.annotate(**{alias: FilteredRelation("answers", condition=Q(answers__question=question.pk))})
        if question.kind in _NUMBER_KINDS:
            fields.append(f"{alias}__number")
            kinds.append(_AS_IS)
        elif question.kind == Question.Kind.MATRIX:
            fields.append(f"{alias}__grid")
            kinds.append((_GRID, tuple(question.row_values)))
        elif question.kind == Question.Kind.RANKING:
            fields.append(f"{alias}__choices")
            kinds.append(_RANKED)
        elif question.kind in _CHOICE_KINDS:
            fields.append(f"{alias}__choices")
            kinds.append(_CHOICES)
        else:
            fields.append(f"{alias}__text")
            kinds.append(_TEXT)
        if question.ask_importance:
            fields.append(f"{alias}__importance")
            kinds.append(_AS_IS)
        if question.allow_other and question.kind in _OTHER_KINDS:
            fields.append(f"{alias}__text")
            kinds.append(_TEXT)
    return qs.values_list(*fields), kinds


_NUMBER_KINDS = (Question.Kind.CSI_ATTRIBUTE, Question.Kind.RATING)
_CHOICE_KINDS = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE, Question.Kind.YES_NO,
                 Question.Kind.CONSENT)
_OTHER_KINDS = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE)
_ANSWERS_AT = len(_BASE) + 3  # the two customer columns and the source


# Of the base columns, the text people typed (comment, touchpoint, channel, link): only these can
# start like a formula. Both writers read it: Python by position, the COPY by name.
_TYPED = ("comment", "touchpoint__name", "channel__name", "distribution__name")
_TEXT_AT = tuple(_BASE.index(name) for name in _TYPED)
_PERSONAL_AT = (10, 11)  # the customer's external id and e-mail


def _row(values: tuple, hidden: list[str], kinds: list[int], personal: bool, pseudonyms: dict) -> list:
    """One response's cells from its tuple (see `_tuples`). A million rows spend their time here:
    positions, not names, and no call per cell where a check in place does."""
    cells = list(values[:_ANSWERS_AT])
    cells[0] = str(cells[0])
    submitted_at = cells[1]
    if submitted_at is not None and not isinstance(submitted_at, str):  # text already on PostgreSQL
        cells[1] = submitted_at.isoformat()
    # Only text that people typed can start like a formula: ids, dates, codes and numbers cannot.
    for at in _TEXT_AT:
        text = cells[at]
        if text and text[0] in FORMULA_FIRST:
            cells[at] = "'" + text
    if personal:
        for at in _PERSONAL_AT:
            text = cells[at]
            if text and text[0] in FORMULA_FIRST:
                cells[at] = "'" + text
    else:
        customer_id = cells[10]
        if customer_id not in pseudonyms:
            pseudonyms[customer_id] = pseudonym_of(cells[11], customer_id) if customer_id else None
        cells[10:12] = [pseudonyms[customer_id]]
    answers = values[_ANSWERS_AT:]
    if hidden:
        fields = answers[0]
        if isinstance(fields, str):
            fields = json.loads(fields)
        fields = fields if isinstance(fields, dict) else {}
        cells.extend(neutralise(_flat(fields.get(key))) for key in hidden)
        answers = answers[1:]
    for kind, value in zip(kinds, answers, strict=True):
        if kind == _TEXT:
            if value and value[0] in FORMULA_FIRST:
                value = "'" + value
        elif kind == _CHOICES:
            if value is not None:
                value = neutralise("; ".join(str(c) for c in value))
        elif kind == _RANKED:
            if value is not None:
                value = neutralise(" > ".join(str(c) for c in value))
        elif kind != _AS_IS:  # a matrix: a cell per row
            if isinstance(value, str):  # the driver's text on some databases
                value = json.loads(value)
            grid = value if isinstance(value, dict) else {}
            cells.extend(grid.get(row) for row in kind[1])
            continue
        cells.append(value)
    return cells


class _Plan:
    """One export's columns: its header, its rows fetched as tuples in chunks, and how a chunk of
    tuples becomes rows of cells. The one implementation of the export's columns, shared by the
    streamed files and the export jobs'."""

    def __init__(self, survey, queryset, *, personal: bool, chunk_size: int | None = None):
        self.chunk_size = chunk_size or CHUNK_SIZE
        self.personal = personal
        # Archived questions too: an old answer keeps its column (docs/adr/0030).
        self.questions = selectors.questions_ever_asked(survey)
        self.hidden = hidden_keys(queryset)
        self.header = header(self.questions, self.hidden, personal=personal)
        self.source = queryset
        self.queryset, self.kinds = _tuples(queryset, self.questions, self.hidden, personal)
        self.pseudonyms: dict = {}

    def fetched(self):
        """Chunks of tuples, read through a server-side cursor: memory stays the same whatever
        the number of rows."""
        tuples = self.queryset.iterator(chunk_size=self.chunk_size)
        while chunk := list(islice(tuples, self.chunk_size)):
            yield chunk

    def rows(self, chunk: list[tuple]) -> list[list]:
        if len(self.pseudonyms) > self.chunk_size:
            self.pseudonyms.clear()
        hidden, kinds, personal, pseudonyms = self.hidden, self.kinds, self.personal, self.pseudonyms
        return [_row(values, hidden, kinds, personal, pseudonyms) for values in chunk]


def row_chunks(survey, queryset, *, personal: bool = True, chunk_size: int | None = None):
    """The header (a chunk of one row), then the rows of `queryset` (from `selectors.responses`)
    in lists of up to `chunk_size`. Without `personal`, customers appear by pseudonym only."""
    plan = _Plan(survey, queryset, personal=personal, chunk_size=chunk_size)
    yield [plan.header]
    for chunk in plan.fetched():
        yield plan.rows(chunk)


def _pipelined(chunks, consume: Callable[[list], None], on_chunk: Callable[[int], None] | None) -> int:
    """`consume(chunk)` for each of `chunks` in a second thread while the next chunk is fetched in
    this one, so the database's time to send rows overlaps Python's to format them (the fetch
    waits on the network without the GIL). The database is read only here: Django's connections
    belong to their thread. Returns the rows consumed; `on_chunk(rows so far)` after each chunk."""
    written = 0

    def settle(pending, size):
        nonlocal written
        pending.result()  # the consumer's exception, if any, is raised here
        written += size
        if on_chunk is not None:
            on_chunk(written)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export") as pool:
        pending = size = None
        for chunk in chunks:
            if pending is not None:
                settle(pending, size)
            pending, size = pool.submit(consume, chunk), len(chunk)
        if pending is not None:
            settle(pending, size)
    return written


# --- Written by PostgreSQL ----------------------------------------------------------------
# Each cell as an SQL expression giving exactly the text `_row` gives, an empty text as NULL (COPY
# writes "" for an empty string and nothing for NULL; Python's csv writes nothing for both).

_FORMULA_SQL = ", ".join(f"chr({ord(prefix)})" for prefix in FORMULA_PREFIXES)


def _inert_sql(sql: str) -> str:
    """`neutralise` in SQL: a leading formula character gets a "'"; an empty text becomes NULL."""
    return f"CASE WHEN left({sql}, 1) IN ({_FORMULA_SQL}) THEN '''' || {sql} ELSE NULLIF({sql}, '') END"


class _Inert(Func):
    """Text made inert (`_inert_sql`)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return _inert_sql(sql), (*params, *params, *params)


class _Text(Func):
    """Text that cannot start a formula (a code, a name of ours): only empty → NULL."""

    function = "NULLIF"
    template = "NULLIF(%(expressions)s, '')"
    output_field = TextField()


class _Given(Func):
    """A cell of one column and one value given with it, passed to the database as a parameter."""

    output_field = TextField()

    def __init__(self, expression, value: str):
        super().__init__(expression)
        self.value = value


class _Joined(_Given):
    """A JSON list of choices as one inert text, the value (a separator) between them in their
    order (`_CHOICES`, `_RANKED`); NULL when there is no answer. Joined once per row, in a
    subquery, and only then made inert."""

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        elements = f"jsonb_array_elements_text(CASE WHEN jsonb_typeof({sql}) = 'array' THEN {sql} ELSE '[]' END)"
        # An array in the elements' order, then joined: 40 % faster than string_agg(… ORDER BY).
        ordered = f"ARRAY(SELECT c FROM {elements} WITH ORDINALITY AS t(c, n) ORDER BY n)"  # noqa: S608 # nosec B608 -- compiled SQL
        listed = f"(SELECT {_inert_sql('s')} FROM (SELECT array_to_string({ordered}, %s) AS s) AS joined)"  # noqa: S608 # nosec B608 -- compiled SQL
        return f"CASE WHEN {sql} IS NOT NULL THEN {listed} END", (*params, *params, *params, self.value)


class _HiddenCell(_Given):
    """The hidden field named by the value as `_flat` writes it: text made inert, a number or a
    boolean as it is, anything nested as JSON (PostgreSQL's, keys in its order: nothing the
    platform writes nests); NULL when the field is missing or the fields are not an object."""

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        value, text, key = f"({sql} -> %s)", f"({sql} ->> %s)", (*params, self.value)
        return (f"CASE jsonb_typeof({value}) WHEN 'string' THEN {_inert_sql(text)} WHEN 'number' THEN {text} "
                f"WHEN 'boolean' THEN {text} WHEN 'object' THEN {value}::text WHEN 'array' THEN {value}::text END",
                key * 8)


class _GridCell(_Given):
    """The row named by the value of a matrix's answer ({row: number}); NULL when not answered."""

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"NULLIF({sql} ->> %s, '')", (*params, self.value)


class _Pseudonym(_Given):
    """The customer's pseudonym, looked up in the value ({customer id: pseudonym} as JSON)."""

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(%s::jsonb ->> ({sql})::text)", (self.value, *params)


def copies(queryset) -> bool:
    """Whether `queryset`'s database writes the CSV itself: PostgreSQL, through psycopg2's COPY."""
    connection = connections[queryset.db]
    return connection.vendor == "postgresql" and connection.Database.__name__ == "psycopg2"


def _pseudonyms(queryset) -> str | None:
    """{customer id: pseudonym} of the customers of `queryset`'s responses, as JSON for the COPY to
    look up: one HMAC per customer rather than per row, and the secret never leaves Python. None
    past `PSEUDONYMS_IN_ONE_COPY` customers: the map is held, and sent with the query, whole."""
    customers = queryset.order_by().exclude(customer=None).values_list("customer_id", "customer__organization_id")
    found = {}
    for pk, organization_id in customers.distinct().iterator(chunk_size=CHUNK_SIZE):
        if len(found) == PSEUDONYMS_IN_ONE_COPY:
            return None
        found[str(pk)] = pseudonym_of(organization_id, pk)
    return json.dumps(found)


def _cells(plan: "_Plan", pseudonyms: str | None):
    """`plan`'s rows as a queryset of one SQL expression per cell, in the header's order."""
    rows = plan.source.prefetch_related(None)
    cells = [Cast("token", TextField()), _IsoUtc("submitted_at"), _Text("status"), F("score")]
    cells += [_Inert(F(name)) if name in _TYPED else _Text(name) for name in _BASE[len(cells):]]
    if plan.personal:
        cells += [_Inert(F("customer__external_id")), _Inert(F("customer__email"))]
    else:
        cells.append(_Pseudonym(F("customer_id"), pseudonyms))
    cells.append(_Text("source"))
    cells += [_HiddenCell(F("hidden_fields"), key) for key in plan.hidden]
    for question in plan.questions:
        alias = f"answer_{question.pk}"
        rows = rows.annotate(**{alias: FilteredRelation("answers", condition=Q(answers__question=question.pk))})
        if question.kind in _NUMBER_KINDS:
            cells.append(F(f"{alias}__number"))
        elif question.kind == Question.Kind.MATRIX:
            cells += [_GridCell(F(f"{alias}__grid"), row) for row in question.row_values]
        elif question.kind == Question.Kind.RANKING:
            cells.append(_Joined(F(f"{alias}__choices"), " > "))
        elif question.kind in _CHOICE_KINDS:
            cells.append(_Joined(F(f"{alias}__choices"), "; "))
        else:
            cells.append(_Inert(F(f"{alias}__text")))
        if question.ask_importance:
            cells.append(F(f"{alias}__importance"))
        if question.allow_other and question.kind in _OTHER_KINDS:
            cells.append(_Inert(F(f"{alias}__text")))
    named = {f"cell_{at}": cell for at, cell in enumerate(cells)}
    return rows.annotate(**named).values_list(*named)


@contextlib.contextmanager
def _snapshot(alias: str):
    """One view of the data for every read of an export (its hidden-field columns, its pseudonyms,
    its rows): a read-only REPEATABLE READ transaction (a standby allows it), unless the caller's
    own transaction is already open. Otherwise a customer who answered between the reads would
    have a row but no pseudonym."""
    connection = connections[alias]
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


class _Copying:
    """What PostgreSQL's COPY writes into: its rows (psycopg2 hands over one per call) gathered
    into writes of `COPY_BUFFER` bytes to `file`, and counted. Meanwhile `on_progress(rows so
    far)` runs every `BEAT_SECONDS` in a thread of its own, with its own database connection (the
    copying one is busy until the last row): the job's heartbeat and progress. What it raises
    (the job was taken over) cancels the COPY (`cancel`) and is raised in its place.

    Without `on_progress`, no beat (see `_copied_csv`)."""

    def __init__(self, file, on_progress: Callable[[int], None] | None, *, cancel: Callable[[], None]):
        self.file, self.on_progress, self.cancel = file, on_progress, cancel
        self.rows, self.buffer, self.error = 0, bytearray(), None
        self.done = threading.Event()
        self.beat = threading.Thread(target=self._beat, name="export-beat", daemon=True)

    def __enter__(self):
        if self.on_progress is not None:
            self.beat.start()
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.done.set()
        if self.beat.is_alive():
            self.beat.join(timeout=BEAT_SECONDS)  # a beat stuck in the database is left to its timeout
        if self.error is not None:  # the beat's reason (taken over), not the cancelled COPY's
            raise self.error
        if exc_type is None:
            self.flush()

    def write(self, data) -> None:
        if self.error is not None:
            raise self.error
        self.rows += 1
        self.buffer += data
        if len(self.buffer) >= COPY_BUFFER:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.file.write(bytes(self.buffer))
            self.buffer.clear()

    def _beat(self) -> None:
        try:
            while not self.done.wait(BEAT_SECONDS):
                self.on_progress(self.rows)
        except BaseException as error:  # handed to the copying thread, whose COPY stops at once
            self.error = error
            self.cancel()
        finally:
            connections.close_all()  # this thread's own


def _copy(connection, sql: str, params, file) -> int:
    """`COPY (sql) TO STDOUT WITH CSV` into `file`; returns the rows copied. When writing fails,
    the server is told to stop: otherwise the driver would read every remaining row to get the
    connection back."""
    with connection.cursor() as cursor:
        statement = cursor.cursor.mogrify(sql, params).decode()
        try:
            cursor.cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv)", file)
        except BaseException:
            cursor.connection.cancel()
            raise
        return cursor.cursor.rowcount


def _copied_csv(survey, queryset, file, *, personal: bool, on_progress: Callable[[int], None] | None) -> int | None:
    """The CSV written by PostgreSQL into the binary `file`: the byte-order mark, the header (quoted
    by the same COPY rules as the rows) and the rows. Returns the rows written, or None — with
    nothing written — when a pseudonymous file has too many customers for one COPY.

    No beat while the caller holds a transaction on the default database: the beat's writes could
    wait for that transaction's locks, and the copy for the beat."""
    beat = None if connections[DEFAULT_DB_ALIAS].in_atomic_block else on_progress
    with _snapshot(queryset.db):
        pseudonyms = None if personal else _pseudonyms(queryset)
        if not personal and pseudonyms is None:
            return None
        plan = _Plan(survey, queryset, personal=personal)
        connection = connections[queryset.db]
        file.write("\ufeff".encode())
        _copy(connection, "SELECT " + ", ".join(["%s"] * len(plan.header)), plan.header, file)
        query = _cells(plan, pseudonyms)
        sql, params = query.query.get_compiler(using=query.db).as_sql()
        with _Copying(file, beat, cancel=connection.connection.cancel) as copying:
            return _copy(connection, sql, params, copying)


def table(survey, queryset, *, personal: bool = True):
    """The header, then one row per response of `queryset`: `row_chunks`, row by row."""
    for chunk in row_chunks(survey, queryset, personal=personal):
        yield from chunk


# --- Files ----------------------------------------------------------------------------------

def filename(survey, extension: str) -> str:
    return f"survey-{survey.pk}-responses-{timezone.now():%Y%m%d-%H%M}.{extension}"


def head_response(survey, extension: str) -> StreamingHttpResponse:
    """What a HEAD of an export answers (a link checker, a prefetch): the file's headers, with no
    file made and no export recorded. Streamed, so no "Content-Length: 0" claims an empty file."""
    response = StreamingHttpResponse(iter(()), content_type=CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{filename(survey, extension)}"'
    return response


def _csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def csv_response(survey, queryset, *, personal: bool = True) -> StreamingHttpResponse | FileResponse:
    """UTF-8 with a byte-order mark, so Excel opens Cyrillic and Latvian text correctly. Where the
    database copies, the file is written first (in memory, on disk past `SPOOLED_BYTES`) and then
    sent whole, with its length: the same bytes as an export job's file."""
    if copies(queryset):
        file = tempfile.SpooledTemporaryFile(max_size=SPOOLED_BYTES)  # noqa: SIM115 -- FileResponse closes it
        return _written_file_response(survey, queryset, file, write_csv, "csv", personal=personal)

    def lines():
        yield "\ufeff"
        for chunk in row_chunks(survey, queryset, personal=personal):
            yield _csv_text(chunk)

    response = StreamingHttpResponse(lines(), content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename(survey, "csv")}"'
    return response


def write_csv(survey, queryset, file, *, personal: bool = True, on_chunk: Callable[[int], None] | None = None) -> int:
    """The CSV (as `csv_response` sends it) written to the binary `file`; returns the rows written
    besides the header. `on_chunk(rows so far)` runs after each chunk of rows Python writes; while
    PostgreSQL copies, every `BEAT_SECONDS` from a thread of its own, and once at the end."""
    if copies(queryset):
        written = _copied_csv(survey, queryset, file, personal=personal, on_progress=on_chunk)
        if written is not None:
            if on_chunk is not None:
                on_chunk(written)
            return written
    plan = _Plan(survey, queryset, personal=personal)
    text = io.TextIOWrapper(file, encoding="utf-8", newline="")
    writer = csv.writer(text)  # "\r\n" (COPY's lines end in "\n"), with which it also quotes a lone "\r"
    text.write("\ufeff")
    writer.writerow(plan.header)
    try:
        return _pipelined(plan.fetched(), lambda chunk: writer.writerows(plan.rows(chunk)), on_chunk)
    finally:
        text.flush()
        text.detach()  # the caller's file stays open


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
    plan = _Plan(survey, queryset, personal=personal)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Responses")
    sheet.append([_xlsx_cell(sheet, value) for value in plan.header])

    def append(chunk):
        for cells in plan.rows(chunk):
            sheet.append([_xlsx_cell(sheet, value) for value in cells])

    written = _pipelined(plan.fetched(), append, on_chunk)
    workbook.save(file)
    return written


def xlsx_response(survey, queryset, *, personal: bool = True) -> FileResponse:
    # A write-only workbook keeps rows on disk, not in memory; the file is sent and then removed.
    file = tempfile.TemporaryFile()  # noqa: SIM115 -- it outlives this function: FileResponse closes it
    return _written_file_response(survey, queryset, file, write_xlsx, "xlsx", personal=personal)


def _written_file_response(survey, queryset, file, write, extension: str, *, personal: bool) -> FileResponse:
    """The export written whole into the temporary `file` by `write`, then sent as an attachment
    (FileResponse closes the file once sent; an error closes it here)."""
    try:
        write(survey, queryset, file, personal=personal)
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename(survey, extension),
                        content_type=CONTENT_TYPES[extension])
