"""An uploaded contact list becomes a list audience: each row is matched to the organization's
customer (external id, else e-mail, else phone — cxplatform.services.match_or_create_customer, the
rules every other way in uses) or creates one, its attributes upserted, and made a member.

Read in the request, within the shared reader's bounds (cxplatform.tabular) lowered to
`MAX_ROWS`: every row is checked before anything is written, so a file refused whole writes
nothing; a bad row is reported with its number as the spreadsheet shows it and its reason."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from cxplatform import tabular
from cxplatform.services import identity_taken, match_or_create_customer, normalise_phone

from .models import Audience, AudienceMember

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
LIMITS = tabular.Limits(rows=MAX_ROWS)
IDENTITY = ("customer_external_id", "email", "phone")
KNOWN = (*IDENTITY, "language", "name")
MAX_ATTRIBUTES = 50


@dataclass
class ListReport:
    audience: Audience | None = None
    taken: int = 0
    created: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    external_id: str
    email: str
    phone: str
    language: str
    name: str
    attributes: dict


def _columns(header: list) -> tuple[dict, dict]:
    known, attributes = {}, {}
    for index, cell in enumerate(header):
        name = tabular.cell_text(cell)
        if not name:
            continue
        key = name.strip().lower().replace(" ", "_").replace("-", "_")
        if key == "external_id":
            key = "customer_external_id"
        target = known if key in KNOWN else attributes
        label = key if key in KNOWN else name.strip()[:50]
        if label in target:
            raise tabular.ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
        target[label] = index
    if not set(IDENTITY) & set(known):
        raise tabular.ImportFileError(_("The file needs a customer_external_id, email or phone column: the first "
                                        "row must name the columns."))
    if len(attributes) > MAX_ATTRIBUTES:
        raise tabular.ImportFileError(_("The file has %(count)d attribute columns; at most %(limit)d can be read.")
                                      % {"count": len(attributes), "limit": MAX_ATTRIBUTES})
    return known, attributes


def _parse(number: int, values: list, known: dict, attributes: dict, languages: set) -> _Row:
    def cell(index):
        return tabular.cell_text(values[index] if index < len(values) else None)

    text = {key: cell(index) for key, index in known.items()}
    problems = []
    external_id, email = text.get("customer_external_id", ""), text.get("email", "")
    phone, language = normalise_phone(text.get("phone", "")), text.get("language", "").lower()
    if not (external_id or email or phone):
        problems.append(_("No customer_external_id, e-mail or phone: nobody to invite."))
    if len(external_id) > 100:
        problems.append(_("The external id is longer than 100 characters."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("“%(value)s” is not a valid e-mail address.") % {"value": email[:60]})
    if len(phone) > 40:
        problems.append(_("The phone is longer than 40 characters."))
    if language and language not in languages:
        problems.append(_("The language “%(value)s” is not one of: %(choices)s.")
                        % {"value": language[:20], "choices": ", ".join(sorted(languages))})
    attrs = {}
    for name, index in attributes.items():
        value = cell(index)
        if len(value) > 200:
            problems.append(_("The attribute “%(name)s” is longer than %(limit)d characters.")
                            % {"name": name, "limit": 200})
        elif value:
            attrs[name] = value
    if problems:
        raise ValueError(" ".join(problems))
    return _Row(number, external_id, email, phone, language, text.get("name", "")[:200], attrs)


def read_rows(upload, name: str) -> tuple[list[_Row], list[tuple[int, str]], list[str]]:
    """The good rows, the refused (row, reason), the ignored columns; ImportFileError for a file
    that cannot be read at all (then nothing is written)."""
    languages = {code for code, _label in settings.LANGUAGES}
    rows, refused, seen = [], [], {}
    with tabular.open_table(upload, name, limits=LIMITS) as table:
        known, attributes = _columns(tabular.header(table))
        for number, values in table.records():
            if tabular.blank_row(values):
                continue
            try:
                row = _parse(number, values, known, attributes, languages)
            except ValueError as exc:
                refused.append((number, str(exc)))
                continue
            keys = [(k, v.lower()) for k, v in (("id", row.external_id), ("email", row.email), ("phone", row.phone))
                    if v]
            first = next((seen[k] for k in keys if k in seen), None)
            if first is not None:
                refused.append((number, _("The same customer is already in row %(row)d.") % {"row": first}))
                continue
            seen.update(dict.fromkeys(keys, number))
            rows.append(row)
    return rows, refused, []


def _upsert(organization, row: _Row):
    """The row's customer, found or created, with the row's name, language and attributes; an
    e-mail or phone the customer lacks is added unless another customer has it."""
    customer = match_or_create_customer(organization, external_id=row.external_id, email=row.email,
                                        phone=row.phone, name=row.name, language=row.language)
    changed = []
    for field_name in ("name", "language"):
        value = getattr(row, field_name)
        if value and getattr(customer, field_name) != value:
            setattr(customer, field_name, value)
            changed.append(field_name)
    for field_name in ("external_id", "email", "phone"):
        value = getattr(row, field_name)
        if value and not getattr(customer, field_name):
            if identity_taken(organization, field=field_name, value=value, exclude_pk=customer.pk):
                raise ValueError(_("The %(field)s %(value)s belongs to another customer.")
                                 % {"field": field_name.replace("_", " "), "value": value[:60]})
            setattr(customer, field_name, value)
            changed.append(field_name)
        elif value and field_name == "email" and customer.email.lower() != value.lower():
            raise ValueError(_("The customer found by the external id has another e-mail (%(value)s).")
                             % {"value": customer.email[:60]})
        elif value and field_name == "phone" and customer.phone != value:
            raise ValueError(_("The customer found by the external id has another phone (%(value)s).")
                             % {"value": customer.phone[:40]})
        elif value and field_name == "external_id" and customer.external_id != value:
            raise ValueError(_("The e-mail or phone belongs to the customer with external id %(value)s.")
                             % {"value": customer.external_id[:60]})
    if row.attributes and {**customer.attributes, **row.attributes} != customer.attributes:
        customer.attributes = {**customer.attributes, **row.attributes}
        changed.append("attributes")
    if changed:
        customer.save(update_fields=changed)
    return customer


def import_list(*, organization, name: str, upload, file_name: str, user=None) -> ListReport:
    """Make a list audience `name` of the file's people (see the module's docstring)."""
    rows, refused, ignored = read_rows(upload, file_name)
    report = ListReport(refused=refused, ignored_columns=ignored)
    if not rows:
        report.refused.sort()
        return report
    with transaction.atomic():
        audience = Audience.objects.create(organization=organization, name=name, kind=Audience.Kind.LIST,
                                           created_by=user)
        members = []
        for row in rows:
            try:
                with transaction.atomic():
                    before = _exists(organization, row)
                    customer = _upsert(organization, row)
            except ValueError as exc:
                report.refused.append((row.number, str(exc)))
                continue
            members.append(AudienceMember(audience=audience, customer=customer))
            report.created += 0 if before else 1
        AudienceMember.objects.bulk_create(members, ignore_conflicts=True)
        report.taken = AudienceMember.objects.filter(audience=audience).count()
        report.audience = audience
    report.refused.sort()
    return report


def _exists(organization, row: _Row) -> bool:
    from cxplatform.services import find_customer

    return find_customer(organization, external_id=row.external_id, email=row.email, phone=row.phone) is not None
