"""Import of customers from the organization's own systems (CRM, billing): a CSV or XLSX file,
one customer per row, for churn rate, CLV and segments.

A row is matched to an existing customer of the organization by `external_id` (required) and
updates it, else it creates one; importing the same file again changes nothing. A column in the
file is the truth for every row: a blank cell empties the field (no date, revenue 0, no
attribute); a column the file does not have leaves the field as it is. `attr_<name>` columns set
`attributes[<name>]` (segment attributes) and keep the attributes the file does not name.

The whole file is read and checked before anything is written, so a file that is too large is
rejected as a whole; then good rows are saved and bad rows are reported with their row number
as a spreadsheet shows it (the header is row 1) and skipped. Spreadsheet formulas are never
evaluated: a workbook is read with `data_only`, which gives the value the spreadsheet program
saved, and a CSV cell that looks like a formula is kept as the text it is.
"""

import csv
import io
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import Customer

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 200
BATCH_SIZE = 1000
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx"}

TEXT_COLUMNS = {"name": 200, "phone": 40}  # column -> longest value the model keeps
COLUMNS = ("external_id", "name", "email", "phone", "language", "active_since", "cancelled_on", "revenue")
ATTRIBUTE_PREFIX = "attr_"
CENT = Decimal("0.01")
MAX_REVENUE = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)

_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f']")


class ImportFileError(Exception):
    """The whole file is rejected (unreadable, not CSV/XLSX, too large, no external_id column)."""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)  # {"row": n, "errors": [message, …]}, by row
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "ignored_columns": self.ignored_columns,
        }


@dataclass
class ParsedRow:
    number: int
    external_id: str
    values: dict  # model field -> value, only for the columns the file has
    attributes: dict  # attribute name -> text, or None to remove it


# --- Reading the file ---------------------------------------------------------------------------

def file_kind(name: str) -> str:
    kind = EXTENSIONS.get(os.path.splitext(name or "")[1].lower())
    if kind is None:
        raise ImportFileError(_("Only .csv and .xlsx files can be imported."))
    return kind


def _file_size(fileobj) -> int | None:
    size = getattr(fileobj, "size", None)
    if size is not None:
        return size
    try:
        position = fileobj.tell()
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(position)
        return size
    except (AttributeError, OSError):
        return None


def _raw(fileobj):
    """The plain binary file under Django's File wrappers (TextIOWrapper and openpyxl need it)."""
    while hasattr(fileobj, "file") and fileobj.file is not None and fileobj.file is not fileobj:
        fileobj = fileobj.file
    return fileobj


def _csv_records(fileobj):
    raw = _raw(fileobj)
    raw.seek(0)
    data = raw.read(MAX_UPLOAD_BYTES + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from None
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    number = 0
    try:
        for number, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):  # noqa: B007
            yield number, record
    except csv.Error as exc:
        raise ImportFileError(
            _("Row %(row)d is not valid CSV: %(error)s") % {"row": number + 1, "error": exc}
        ) from None


def _xlsx_records(fileobj):
    from openpyxl import load_workbook

    raw = _raw(fileobj)
    raw.seek(0)
    try:
        # data_only: the values the spreadsheet program saved; a formula is never evaluated here.
        workbook = load_workbook(raw, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
        logger.info("unreadable workbook: %r", exc)
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx)."))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers declare a wrong size; read every row
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        logger.info("unreadable workbook rows: %r", exc)
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from None
    finally:
        workbook.close()


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _text(value) -> str:
    """A cell as text: spreadsheets give numbers and dates, CSV gives strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- Columns -------------------------------------------------------------------------------------

@dataclass
class Columns:
    positions: dict[str, int]  # known column -> index
    attributes: dict[str, int]  # attribute name -> index
    ignored: list[str]


def read_columns(header: list) -> Columns:
    positions, attributes, ignored = {}, {}, []
    for index, cell in enumerate(header):
        name = _text(cell)
        if not name:
            continue
        key = re.sub(r"[\s-]+", "_", name.lower())
        if key in COLUMNS:
            if key in positions:
                raise ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
            positions[key] = index
        elif key.startswith(ATTRIBUTE_PREFIX) and len(key) > len(ATTRIBUTE_PREFIX):
            attribute = name[len(ATTRIBUTE_PREFIX):].strip()[:50]
            if attribute in attributes:
                raise ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
            attributes[attribute] = index
        else:
            ignored.append(name)
    if "external_id" not in positions:
        raise ImportFileError(
            _("The file has no external_id column. The first row must name the columns, external_id among them.")
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise ImportFileError(
            _("The file has %(count)d attribute columns; at most %(limit)d can be imported.")
            % {"count": len(attributes), "limit": MAX_ATTRIBUTES}
        )
    return Columns(positions=positions, attributes=attributes, ignored=ignored)


# --- One cell ------------------------------------------------------------------------------------

def parse_date(value) -> date | None:
    """YYYY-MM-DD or DD.MM.YYYY (or a spreadsheet date); blank is None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    dotted, iso = _DOTTED_DATE.fullmatch(text), _ISO_DATE.fullmatch(text)
    try:
        if dotted:
            day, month, year = (int(g) for g in dotted.groups())
            return date(year, month, day)
        if iso:
            year, month, day = (int(g) for g in iso.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise ValueError(_("“%(value)s” is not a date: use YYYY-MM-DD or DD.MM.YYYY.") % {"value": text[:40]})


def parse_revenue(value) -> Decimal:
    """A non-negative amount: 1234.50, 1234,50, 1 234,50, 1,234.50 or 1.234,50; blank is 0."""
    if isinstance(value, bool):
        raise ValueError(_("“%(value)s” is not an amount of money.") % {"value": _text(value)})
    if isinstance(value, int | float | Decimal):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise ValueError(_("“%(value)s” is not an amount of money.") % {"value": _text(value)[:40]})
    else:
        text = _text(value)
        if not text:
            return Decimal("0.00")
        number = _NUMBER_SPACES.sub("", text)
        if "," in number and "." in number:
            # The separator that comes last is the decimal one; the other groups thousands.
            if number.rfind(",") > number.rfind("."):
                number = number.replace(".", "").replace(",", ".")
            else:
                number = number.replace(",", "")
        elif number.count(",") == 1:
            number = number.replace(",", ".")
        elif number.count(",") > 1:
            number = number.replace(",", "")
        if not _PLAIN_NUMBER.fullmatch(number):
            raise ValueError(_("“%(value)s” is not an amount of money.") % {"value": text[:40]})
        amount = Decimal(number)
    if amount < 0:
        raise ValueError(_("The revenue must not be negative."))
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount > MAX_REVENUE:
        raise ValueError(_("The revenue is too large."))
    return amount


def parse_row(number: int, values: list, columns: Columns, languages: set[str]) -> ParsedRow:
    """The row's values, or ValueError with every problem of the row at once."""
    problems = []

    def cell(column):
        index = columns.positions[column]
        return values[index] if index < len(values) else None

    external_id = _text(cell("external_id"))
    if not external_id:
        problems.append(_("The external id is missing."))
    elif len(external_id) > 100:
        problems.append(_("The external id is longer than 100 characters."))

    parsed = {}
    for column, limit in TEXT_COLUMNS.items():
        if column in columns.positions:
            text = _text(cell(column))
            if len(text) > limit:
                problems.append(
                    _("The value in the column %(column)s is longer than %(limit)d characters.")
                    % {"column": column, "limit": limit}
                )
            parsed[column] = text
    if "email" in columns.positions:
        email = _text(cell("email"))
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(_("“%(value)s” is not a valid e-mail address.") % {"value": email[:60]})
        parsed["email"] = email
    if "language" in columns.positions:
        language = _text(cell("language")).lower()
        if language and language not in languages:
            problems.append(
                _("The language “%(value)s” is not one of: %(choices)s.")
                % {"value": language[:20], "choices": ", ".join(sorted(languages))}
            )
        parsed["language"] = language
    for column in ("active_since", "cancelled_on"):
        if column in columns.positions:
            try:
                parsed[column] = parse_date(cell(column))
            except ValueError as exc:
                problems.append(f"{column}: {exc}")
    if "revenue" in columns.positions:
        try:
            parsed["revenue"] = parse_revenue(cell("revenue"))
        except ValueError as exc:
            problems.append(str(exc))

    attributes = {}
    for name, index in columns.attributes.items():
        text = _text(values[index] if index < len(values) else None)
        if len(text) > MAX_ATTRIBUTE_LENGTH:
            problems.append(
                _("The attribute “%(name)s” is longer than %(limit)d characters.")
                % {"name": name, "limit": MAX_ATTRIBUTE_LENGTH}
            )
        attributes[name] = text or None

    if problems:
        raise ValueError(problems)
    return ParsedRow(number=number, external_id=external_id, values=parsed, attributes=attributes)


def _dates_in_order(customer: Customer) -> bool:
    return not (customer.active_since and customer.cancelled_on and customer.cancelled_on < customer.active_since)


def _dates_error() -> str:
    return _("cancelled_on is before active_since: a customer cannot cancel before becoming a customer.")


# --- The whole file ------------------------------------------------------------------------------

def read_file(fileobj, name: str) -> tuple[Columns, list[ParsedRow], list[dict]]:
    """Every row of the file, checked; nothing is written. Raises ImportFileError for the file."""
    kind = file_kind(name)
    size = _file_size(fileobj)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ImportFileError(
            _("The file is larger than %(limit)d MB; split it into smaller files.")
            % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    records = _csv_records(fileobj) if kind == "csv" else _xlsx_records(fileobj)
    languages = {code for code, _label in settings.LANGUAGES}
    columns, rows, errors = None, [], []
    seen: dict[str, int] = {}
    data_rows = 0
    try:
        for number, values in records:
            if columns is None:
                if number != 1 or _blank(values):
                    break  # the header must be the first row: row numbers in the report count from it
                columns = read_columns(values)
                continue
            if _blank(values):
                continue
            data_rows += 1
            if data_rows > MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than %(limit)d rows; split it into smaller files.") % {"limit": MAX_ROWS}
                )
            try:
                row = parse_row(number, values, columns, languages)
            except ValueError as exc:
                errors.append({"row": number, "errors": list(exc.args[0])})
                continue
            if row.external_id in seen:
                errors.append({"row": number, "errors": [
                    _("The external id “%(value)s” is already in row %(row)d.")
                    % {"value": row.external_id[:40], "row": seen[row.external_id]}
                ]})
                continue
            seen[row.external_id] = number
            rows.append(row)
    finally:
        records.close()
    if columns is None:
        raise ImportFileError(_("The file is empty, or its first row does not name the columns."))
    return columns, rows, errors


def import_customers(organization, fileobj, name: str) -> ImportReport:
    """Create or update the organization's customers from the file; see the module's docstring."""
    columns, rows, errors = read_file(fileobj, name)
    report = ImportReport(errors=errors, ignored_columns=columns.ignored)
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start:start + BATCH_SIZE]
        try:
            _save_batch(organization, batch, report)
        except IntegrityError:
            # Another import created one of these external ids meanwhile: this time they are found.
            _save_batch(organization, batch, report)
    report.errors.sort(key=lambda e: e["row"])
    return report


def _save_batch(organization, batch: list[ParsedRow], report: ImportReport) -> None:
    counts = ImportReport()
    with transaction.atomic():
        existing = {
            c.external_id: c
            for c in Customer.objects.for_org(organization)
            .filter(external_id__in=[row.external_id for row in batch])
            .select_for_update()
        }
        new, changed, changed_fields = [], [], set()
        for row in batch:
            customer = existing.get(row.external_id)
            is_new = customer is None
            if is_new:
                customer = Customer(organization=organization, external_id=row.external_id)
            fields = _apply(customer, row)
            if not _dates_in_order(customer):
                counts.errors.append({"row": row.number, "errors": [_dates_error()]})
            elif is_new:
                new.append(customer)
            elif fields:
                changed.append(customer)
                changed_fields |= fields
            else:
                counts.unchanged += 1
        Customer.objects.bulk_create(new)
        if changed:
            Customer.objects.bulk_update(changed, sorted(changed_fields))
        counts.created, counts.updated = len(new), len(changed)
    # Counted only once the batch is saved, so a retried batch is not counted twice.
    report.created += counts.created
    report.updated += counts.updated
    report.unchanged += counts.unchanged
    report.errors += counts.errors


def _apply(customer: Customer, row: ParsedRow) -> set[str]:
    """Set the row's values on `customer`; the names of the fields that changed."""
    changed = set()
    for name, value in row.values.items():
        if getattr(customer, name) != value:
            setattr(customer, name, value)
            changed.add(name)
    if row.attributes:
        attributes = dict(customer.attributes or {})
        for name, value in row.attributes.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        if attributes != (customer.attributes or {}):
            customer.attributes = attributes
            changed.add("attributes")
    return changed
