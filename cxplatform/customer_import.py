"""Import of customers from the organization's own systems (CRM, billing): a CSV or XLSX file,
one customer per row, for churn rate, CLV and segments.

A row is matched to an existing customer of the organization by `external_id` (required) and
updates it, else it creates one; importing the same file again changes nothing. A column in the
file is the truth for every row: a blank cell empties the field (no date, revenue 0, no
attribute); a column the file does not have leaves the field as it is. `attr_<name>` columns set
`attributes[<name>]` (segment attributes) and keep the attributes the file does not name.

The file is read by the shared reader (`tabular`, within its limits) in an import job
(`import_jobs`), in a worker: good rows are saved batch by batch and bad rows are reported with
their row number as a spreadsheet shows it (the header is row 1) and skipped. Spreadsheet formulas
are never evaluated: a workbook is read with `data_only`, which gives the value the spreadsheet
program saved, and a CSV cell that looks like a formula is kept as the text it is.
"""

import contextlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from .import_jobs import RowError, RowImporter, Saved
from .models import Customer, CustomerImportJob
from .services import normalise_phone
from .tabular import ImportFileError, cell_text

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_LENGTH = 200

TEXT_COLUMNS = {"name": 200, "phone": 40}  # column -> longest value the model keeps
COLUMNS = ("external_id", "name", "email", "phone", "language", "active_since", "cancelled_on", "revenue")
ATTRIBUTE_PREFIX = "attr_"
CENT = Decimal("0.01")
MAX_REVENUE = Decimal("999999999999.99")  # DecimalField(max_digits=14, decimal_places=2)

_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][\d:.]+)?")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f']")


@dataclass
class ParsedRow:
    number: int
    external_id: str
    values: dict  # model field -> value, only for the columns the file has
    attributes: dict  # attribute name -> text, or None to remove it


def _text(value) -> str:
    """A cell as text; a spreadsheet's date without a time as the date alone."""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    return cell_text(value)


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
            parsed[column] = normalise_phone(text) if column == "phone" else text
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


def dates_in_order(customer: Customer) -> bool:
    return not (customer.active_since and customer.cancelled_on and customer.cancelled_on < customer.active_since)


def dates_error() -> str:
    return _("cancelled_on is before active_since: a customer cannot cancel before becoming a customer.")


# --- The rows of a job ---------------------------------------------------------------------------

class CustomerImporter(RowImporter):
    """The rows of one CustomerImportJob (saved or not: an unsaved one checks an upload)."""

    def __init__(self, job: CustomerImportJob):
        self.organization = job.organization
        self.languages = {code for code, _label in settings.LANGUAGES}
        self.columns: Columns | None = None
        self.seen: dict[str, int] = {}  # external id -> the row it was first in

    def start(self, header: list) -> list[str]:
        self.columns = read_columns(header)
        return self.columns.ignored

    def parse(self, number: int, values: list) -> ParsedRow:
        try:
            row = parse_row(number, values, self.columns, self.languages)
        except ValueError as exc:
            raise RowError(list(exc.args[0])) from None
        if row.external_id in self.seen:
            raise RowError([_("The external id “%(value)s” is already in row %(row)d.")
                            % {"value": row.external_id[:40], "row": self.seen[row.external_id]}])
        self.seen[row.external_id] = number
        return row

    def skip(self, number: int, values: list) -> None:
        with contextlib.suppress(RowError):
            self.parse(number, values)

    def save(self, rows: list[ParsedRow]) -> Saved:
        try:
            return _save_batch(self.organization, rows)
        except IntegrityError:
            # Another import created one of these external ids meanwhile: this time they are found.
            return _save_batch(self.organization, rows)


def _save_batch(organization, batch: list[ParsedRow]) -> Saved:
    saved = Saved()
    with transaction.atomic():
        existing = {
            c.external_id: c
            for c in Customer.objects.for_org(organization)
            .filter(external_id__in=[row.external_id for row in batch])
            .select_for_update(no_key=True)
        }
        new, changed, changed_fields = [], [], set()
        taken = _identities_taken(organization, batch, existing)
        for row in batch:
            customer = existing.get(row.external_id)
            is_new = customer is None
            if is_new:
                customer = Customer(organization=organization, external_id=row.external_id)
            fields = _apply(customer, row)
            clash = _clash(customer, taken)
            if clash:
                saved.errors.append({"row": row.number, "reason": clash})
            elif not dates_in_order(customer):
                saved.errors.append({"row": row.number, "reason": dates_error()})
            elif is_new:
                new.append(customer)
            elif fields:
                changed.append(customer)
                changed_fields |= fields
            else:
                saved.duplicates += 1
        Customer.objects.bulk_create(new)
        if changed:
            Customer.objects.bulk_update(changed, sorted(changed_fields))
        saved.imported, saved.updated = len(new), len(changed)
    return saved


def _identities_taken(organization, batch: list[ParsedRow], existing: dict) -> dict:
    """{("email", lowered) or ("phone", number): external id of the customer that has it}: the
    e-mails and phones of the batch already used by the organization's customers. A customer is
    one per e-mail and per phone, so a row giving another customer's is refused, not merged."""
    emails = {str(r.values.get("email", "")).lower() for r in batch} - {""}
    phones = {r.values.get("phone", "") for r in batch} - {""}
    taken = {}
    if emails or phones:
        found = (Customer.objects.for_org(organization).annotate(email_key=Lower("email"))
                 .filter(Q(email_key__in=emails) | Q(phone__in=phones))
                 .values_list("email_key", "phone", "external_id"))
        for email_key, phone, external_id in found:
            taken[("email", email_key)] = external_id
            taken[("phone", phone)] = external_id
    return taken


def _clash(customer: Customer, taken: dict) -> str:
    """Why `customer` cannot have its e-mail or phone, if another customer has it; claims them
    for it otherwise (so a later row of the same file cannot take them too)."""
    keys = [("email", customer.email.lower()), ("phone", customer.phone)]
    for kind, value in keys:
        owner = taken.get((kind, value))
        if value and owner is not None and owner != customer.external_id:
            message = (_("The e-mail %(value)s belongs to another customer (external id %(other)s).") if kind == "email"
                       else _("The phone %(value)s belongs to another customer (external id %(other)s)."))
            return message % {"value": value[:60], "other": owner or "—"}
    for kind, value in keys:
        if value:
            taken[(kind, value)] = customer.external_id
    return ""


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
