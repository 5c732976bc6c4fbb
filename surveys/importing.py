"""Import of past responses from another tool: a CSV or XLSX file, one response per row.

Each row goes through the same door as a live answer (`clean_submission` + `record_response`),
keyed by `import:<survey>:<row key>` so importing the same file twice adds nothing: the row key is
the file's `response_id` column, or a hash of the row's normalized content. Bad rows are reported
with their number in the file (the header is row 1) and a reason; good rows are kept.

The file is read as a stream within the shared reading limits (`cxplatform.tabular`) by an import
job (`cxplatform.import_jobs`): this module says what a row means; the job reads the file, counts,
reports and keeps the progress bar moving.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform.import_jobs import RowError, RowImporter, Saved
from cxplatform.models import Customer
from cxplatform.services import match_or_create_customer
from cxplatform.tabular import ImportFileError, cell_text
from cxplatform.tabular import parse_moment as parse_submitted_at
from journeys.models import Channel, Touchpoint

from . import services
from .models import LANGUAGE_CODES, ImportJob, Question, Response, Survey, SurveyType

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024

RESPONSE_COLUMNS = ("submitted_at", "score", "comment", "customer_external_id", "email", "touchpoint", "channel",
                    "language", "response_id")
# Our own export names the e-mail column so; an exported file imports as it is.
ALIASES = {"customer_email": "email"}
# Columns of our export that describe a response rather than answer it: read past without a word.
EXPORT_ONLY_COLUMNS = {"status", "band", "distribution", "source"}
HIDDEN_PREFIX = "hidden_"
MAX_KEY_LENGTH = 64



# --- Columns ---------------------------------------------------------------------------------

@dataclass
class Columns:
    """Where each known column sits in the row, and the header's columns that mean nothing here."""

    positions: dict[str, int]  # response column, question key or "<key>__importance" -> index
    hidden: dict[str, int]  # hidden field name -> index
    ignored: list[str]


def read_columns(header: list, survey: Survey, questions: list[Question]) -> Columns:
    names = ["" if cell is None else str(cell).strip() for cell in header]
    by_lower = {c: c for c in RESPONSE_COLUMNS} | ALIASES
    for q in questions:
        for column in question_columns(q):
            by_lower[column.lower()] = column
    positions, hidden, ignored = {}, {}, []
    for index, name in enumerate(names):
        if not name:
            continue
        lower = name.lower()
        target = by_lower.get(lower)
        if target is not None:
            if target in positions:
                raise ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
            positions[target] = index
        elif lower.startswith(HIDDEN_PREFIX) and len(lower) > len(HIDDEN_PREFIX):
            hidden[name[len(HIDDEN_PREFIX):]] = index
        elif lower not in EXPORT_ONLY_COLUMNS:
            ignored.append(name)

    required = ["submitted_at"]
    if survey.survey_type != SurveyType.CSI:
        required.append("score")
    # A required question the survey's logic may hide, or one answered in several columns, is
    # checked row by row (clean_submission) rather than demanded of the file.
    required += [q.key for q in questions if q.required and not q.show_if and q.kind != Question.Kind.MATRIX
                 and q.is_answerable]
    missing = [c for c in required if c not in positions]
    if missing:
        raise ImportFileError(
            _("The file lacks the required column(s): %(columns)s. The first row must name the columns.")
            % {"columns": ", ".join(missing)}
        )
    return Columns(positions=positions, hidden=hidden, ignored=ignored)


def survey_columns(survey: Survey) -> list[str]:
    """The columns a file for `survey` may have, for the upload page."""
    columns = [c for c in RESPONSE_COLUMNS if not (c == "score" and survey.survey_type == SurveyType.CSI)]
    for q in survey.questions.all():
        columns.extend(question_columns(q))
    return columns


def question_columns(question: Question) -> list[str]:
    """The columns a question is read from: those the export writes for it (`surveys.exporting`)."""
    if not question.is_answerable:
        return []
    key = question.key
    if question.kind == Question.Kind.MATRIX:
        return [f"{key}__{row}" for row in question.row_values]
    columns = [key]
    if question.ask_importance:
        columns.append(f"{key}__importance")
    if question.allow_other and question.kind in (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTIPLE_CHOICE):
        columns.append(f"{key}__other")
    return columns


# --- One row ---------------------------------------------------------------------------------

@dataclass
class Row:
    number: int
    key: str  # the row key, part of the response's client_key
    data: dict  # what clean_submission reads
    submitted_at: datetime
    language: str
    touchpoint: Touchpoint | None
    channel: Channel | None
    external_id: str
    email: str
    hidden: dict
    client_key: str = ""
    submission: services.Submission | None = None


class Importer(RowImporter):
    """The rows of one job (saved or not: an unsaved one checks an upload). Looks up touchpoints,
    channels and customers once, not per row."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.organization = job.organization
        self.survey = Survey.objects.select_related("organization").prefetch_related("questions").get(pk=job.survey_id)
        self.questions = list(self.survey.questions.all())
        self.now = timezone.now()
        self.touchpoints = _by_name(Touchpoint.objects.filter(organization=self.organization).select_related("channel"))
        self.channels = _by_name(Channel.objects.filter(organization=self.organization))
        self.customers_by_external_id: dict[str, Customer] = {}
        self.customers_by_email: dict[str, Customer] = {}
        self.choice_labels = {q.key: _choice_lookup(q) for q in self.questions if q.kind in Question.CHOICE_KINDS}
        self.columns: Columns | None = None

    def start(self, header: list) -> list[str]:
        self.columns = read_columns(header, self.survey, self.questions)
        return self.columns.ignored

    def save(self, rows: list[Row]) -> Saved:
        saved = Saved()
        keys = {row.client_key for row in rows}
        existing = set(
            Response.objects.filter(organization=self.organization, client_key__in=keys)
            .values_list("client_key", flat=True)
        )
        self._load_customers(rows)
        for row in rows:
            if row.client_key in existing:
                saved.duplicates += 1
                continue
            try:
                _response, created = services.record_response(
                    survey=self.survey,
                    submission=row.submission,
                    complete=True,
                    language=row.language,
                    source=Response.Source.IMPORT,
                    client_key=row.client_key,
                    customer=self._customer(row),
                    hidden=row.hidden,
                    touchpoint=row.touchpoint,
                    channel=row.channel,
                    submitted_at=row.submitted_at,
                )
            except services.SubmissionError as exc:
                saved.errors.append({"row": row.number, "reason": _reasons(exc.errors)})
                continue
            existing.add(row.client_key)  # the same row twice in one file
            if created:
                saved.imported += 1
            else:  # another import of the same file got there first
                saved.duplicates += 1
        return saved

    # -- one row

    def parse(self, number: int, values: list) -> Row:
        """Check one row without touching the database; RowError lists everything wrong with it."""
        columns = self.columns
        reasons: list[str] = []

        def cell(name):
            index = columns.positions.get(name)
            return values[index] if index is not None and index < len(values) else None

        texts = {name: cell_text(cell(name)) for name in columns.positions}
        unreadable = {name for name, text in texts.items() if "\x00" in text}
        for name in unreadable:
            reasons.append(f"{name}: " + _("The text contains a NUL character."))
            texts[name] = ""
        hidden = {}
        for name, index in columns.hidden.items():
            value = cell_text(values[index]) if index < len(values) else ""
            if "\x00" in value:
                reasons.append(f"{HIDDEN_PREFIX}{name}: " + _("The text contains a NUL character."))
            elif value:
                hidden[name] = value

        submitted_at = None
        try:
            raw_date = cell("submitted_at")
            submitted_at = parse_submitted_at(raw_date if isinstance(raw_date, datetime | date) else
                                              texts["submitted_at"], self.now)
        except ValueError as exc:
            reasons.append(f"submitted_at: {exc}")

        language = texts.get("language", "").lower() or self.survey.default_language
        if language not in LANGUAGE_CODES:
            reasons.append("language: " + _("“%(value)s” is not a language we speak: use %(codes)s.")
                           % {"value": texts["language"][:20], "codes": ", ".join(LANGUAGE_CODES)})

        touchpoint = channel = None
        if texts.get("touchpoint"):
            touchpoint = _find(self.touchpoints, texts["touchpoint"])
            if touchpoint is None:
                reasons.append("touchpoint: " + _("There is no touchpoint “%(name)s” in this organization.")
                               % {"name": texts["touchpoint"][:200]})
        if texts.get("channel"):
            channel = _find(self.channels, texts["channel"])
            if channel is None:
                reasons.append("channel: " + _("There is no channel “%(name)s” in this organization.")
                               % {"name": texts["channel"][:100]})
        elif touchpoint is not None:
            channel = touchpoint.channel

        external_id, email = texts.get("customer_external_id", ""), texts.get("email", "")
        if len(external_id) > 100:
            reasons.append("customer_external_id: " + _("Please keep it under %(limit)d characters.") % {"limit": 100})
        if len(email) > 254:
            reasons.append("email: " + _("Please keep it under %(limit)d characters.") % {"limit": 254})
        elif email:
            try:
                validate_email(email)
            except ValidationError:
                reasons.append("email: " + _("“%(value)s” is not a valid e-mail address.") % {"value": email[:100]})

        data = self._submission_data(texts)
        submission = None
        # The survey's logic reads what a row says of its visit (the customer is matched later, when
        # the rows are saved, so a condition on the segment sees none).
        facts = services.visit_facts(survey=self.survey, language=language, touchpoint=touchpoint, hidden=hidden)
        try:
            submission = services.clean_submission(self.survey, data, complete=True, language=language, facts=facts)
        except services.SubmissionError as exc:
            other = {name: message for name, message in exc.errors.items() if name not in unreadable}
            if other:
                reasons.append(_reasons(other))

        if reasons:
            raise RowError(reasons)
        key = self._row_key(texts, submitted_at)
        return Row(
            number=number, key=key, data=data, submitted_at=submitted_at, language=language, touchpoint=touchpoint,
            channel=channel, external_id=external_id, email=email, hidden=hidden,
            client_key=f"import:{self.survey.pk}:{key}", submission=submission,
        )

    def _submission_data(self, texts: dict) -> dict:
        data = {}
        if "score" in texts:
            data["score"] = texts["score"]
        if "comment" in texts:
            data["comment"] = texts["comment"]
        for q in self.questions:
            for column in question_columns(q):  # importance, other text, a matrix's rows: as they are
                if column != q.key and column in texts:
                    data[column] = texts[column]
            if q.key not in texts:
                continue
            value = texts[q.key]
            if q.kind == Question.Kind.MULTIPLE_CHOICE:
                # "a; b" as the export writes it; "a|b" as it did before
                parts = value.replace("|", ";").split(";")
                data[q.key] = [self._choice(q, part.strip()) for part in parts if part.strip()]
            elif q.kind == Question.Kind.RANKING:
                data[q.key] = [self._choice(q, part.strip()) for part in value.split(">") if part.strip()]
            elif q.kind == Question.Kind.SINGLE_CHOICE:
                data[q.key] = self._choice(q, value)
            elif q.kind in (Question.Kind.YES_NO, Question.Kind.CONSENT):
                data[q.key] = value.strip().lower()
            else:
                data[q.key] = value
        return data

    def _choice(self, question: Question, value: str) -> str:
        """A choice's value; another tool exports its label instead, in any of our languages."""
        if not value or value in question.choice_values:
            return value
        return self.choice_labels[question.key].get(value.casefold(), value)

    def _row_key(self, texts: dict, submitted_at: datetime) -> str:
        response_id = texts.get("response_id", "")
        if response_id:
            if len(response_id) <= MAX_KEY_LENGTH:
                return response_id
            return hashlib.sha256(response_id.encode()).hexdigest()[:40]
        content = {name: value for name, value in texts.items() if value}
        content["submitted_at"] = submitted_at.isoformat()
        if "email" in content:
            content["email"] = content["email"].lower()
        digest = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(digest.encode()).hexdigest()[:40]

    # -- customers

    def _load_customers(self, rows: list[Row]) -> None:
        """Fetch the batch's customers in two queries instead of two per row."""
        external_ids = {r.external_id for r in rows if r.external_id} - self.customers_by_external_id.keys()
        emails = {r.email.lower() for r in rows if r.email} - self.customers_by_email.keys()
        if external_ids:
            for customer in Customer.objects.filter(organization=self.organization, external_id__in=external_ids):
                self.customers_by_external_id[customer.external_id] = customer
        if emails:
            found = (Customer.objects.filter(organization=self.organization)
                     .annotate(email_lower=Lower("email")).filter(email_lower__in=emails).order_by("id"))
            for customer in found:
                self.customers_by_email.setdefault(customer.email_lower, customer)

    def _customer(self, row: Row) -> Customer | None:
        """Matched by external id, then by e-mail; created when new."""
        if not row.external_id and not row.email:
            return None
        email = row.email.lower()
        customer = self.customers_by_external_id.get(row.external_id) if row.external_id else None
        if customer is None and email:
            by_email = self.customers_by_email.get(email)
            if by_email is not None and (not row.external_id or not by_email.external_id):
                customer = by_email
                if row.external_id:  # the other tool knew the customer's id: remember it
                    customer.external_id = row.external_id
                    customer.save(update_fields=["external_id"])
        if customer is None:
            customer = self._create_customer(row)
        if row.external_id:
            self.customers_by_external_id[row.external_id] = customer
        if email:
            self.customers_by_email.setdefault(email, customer)
        return customer

    def _create_customer(self, row: Row) -> Customer:
        return match_or_create_customer(self.organization, external_id=row.external_id, email=row.email,
                                        language=row.language)


def _by_name(queryset) -> dict[str, object]:
    found = {}
    for obj in queryset:
        found.setdefault(obj.name, obj)
        found.setdefault(obj.name.strip().casefold(), obj)
    return found


def _find(objects: dict, name: str):
    return objects.get(name) or objects.get(name.strip().casefold())


def _choice_lookup(question: Question) -> dict[str, str]:
    labels = {}
    for choice in question.choices or []:
        for label in (choice.get("label") or {}).values():
            if label:
                labels.setdefault(str(label).strip().casefold(), choice["value"])
    return labels


def _reasons(errors: dict[str, str]) -> str:
    return "; ".join(f"{name}: {message}" for name, message in errors.items())
