"""An uploaded contact list (CSV or XLSX, through the shared tabular reader): one person per row,
columns `customer_external_id`, `email`, `phone`, `language`, `name`, and any other column an
attribute of the customer. Each row is matched to the organization's customer by the platform's
rules (external id, else e-mail, else phone: cxplatform.services) and updates it, or creates one;
the customers become a LIST audience.

The whole file is read and checked before anything is written, and written in one transaction:
a file the reader refuses changes nothing; a bad row is reported with its line (as a spreadsheet
shows it: the header is line 1) and reason and left out; a row naming someone an earlier row
already named is a duplicate, left out and counted."""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from cxplatform.customer_import import MAX_ATTRIBUTE_LENGTH, MAX_ATTRIBUTES
from cxplatform.models import Customer
from cxplatform.services import find_customer, identity_taken, match_or_create_customer, normalise_phone
from cxplatform.tabular import ImportFileError, Limits, blank_row, cell_text, header, open_table

from .models import Audience, AudienceMember

IDENTITY = ("customer_external_id", "email", "phone")
KNOWN = (*IDENTITY, "language", "name")
ALIASES = {"external_id": "customer_external_id"}
LIMITS = {"customer_external_id": 100, "email": 254, "phone": 40, "name": 200}
ATTRIBUTE_PREFIX = "attr_"


@dataclass
class Contact:
    line: int
    external_id: str
    email: str
    phone: str
    language: str
    name: str
    attributes: dict


@dataclass
class ContactList:
    customer_ids: list[int] = field(default_factory=list)  # in the file's order, each once
    created: int = 0
    updated: int = 0
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, the earlier line naming them)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def read_columns(names: list) -> tuple[dict[str, int], dict[str, int]]:
    """(known column -> index, attribute name -> index); ImportFileError when unusable."""
    known: dict[str, int] = {}
    attributes: dict[str, int] = {}
    for index, cell in enumerate(names):
        name = cell_text(cell)
        if not name:
            continue
        key = re.sub(r"[\s-]+", "_", name.lower())
        key = ALIASES.get(key, key)
        if key in KNOWN:
            target, label = known, key
        else:
            target = attributes
            label = name[len(ATTRIBUTE_PREFIX):] if key.startswith(ATTRIBUTE_PREFIX) else name
            label = label.strip()[:50]
        if label in target:
            raise ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
        target[label] = index
    if not any(column in known for column in IDENTITY):
        raise ImportFileError(_("The file needs a customer_external_id, email or phone column to tell who each "
                                "row is. The first row must name the columns."))
    if len(attributes) > MAX_ATTRIBUTES:
        raise ImportFileError(
            _("The file has %(count)d attribute columns; at most %(limit)d can be imported.")
            % {"count": len(attributes), "limit": MAX_ATTRIBUTES})
    return known, attributes


def parse_row(line: int, values: list, known: dict, attributes: dict) -> Contact:
    """The row as a Contact, or ValueError with every problem of the row."""
    problems = []

    def cell(column):
        index = known.get(column)
        return cell_text(values[index]) if index is not None and index < len(values) else ""

    texts = {column: cell(column) for column in ("customer_external_id", "email", "phone", "name")}
    for column, text in texts.items():
        if len(text) > LIMITS[column]:
            problems.append(_("The value in the column %(column)s is longer than %(limit)d characters.")
                            % {"column": column, "limit": LIMITS[column]})
    if texts["email"]:
        try:
            validate_email(texts["email"])
        except ValidationError:
            problems.append(_("“%(value)s” is not a valid e-mail address.") % {"value": texts["email"][:60]})
    phone = normalise_phone(texts["phone"])
    if texts["phone"] and not phone:
        problems.append(_("“%(value)s” is not a phone number.") % {"value": texts["phone"][:40]})
    languages = {code for code, _name in settings.LANGUAGES}
    language = cell("language").lower()
    if language and language not in languages:
        problems.append(_("The language “%(value)s” is not one of: %(choices)s.")
                        % {"value": language[:20], "choices": ", ".join(sorted(languages))})
    if not (texts["customer_external_id"] or texts["email"] or phone) and not problems:
        problems.append(_("The row has no customer_external_id, e-mail or phone: nobody to invite."))
    found_attributes = {}
    for name, index in attributes.items():
        text = cell_text(values[index]) if index < len(values) else ""
        if len(text) > MAX_ATTRIBUTE_LENGTH:
            problems.append(_("The attribute “%(name)s” is longer than %(limit)d characters.")
                            % {"name": name, "limit": MAX_ATTRIBUTE_LENGTH})
        elif text:  # a blank cell leaves the customer's attribute as it is
            found_attributes[name] = text
    if problems:
        raise ValueError(problems)
    return Contact(line=line, external_id=texts["customer_external_id"], email=texts["email"], phone=phone,
                   language=language, name=texts["name"], attributes=found_attributes)


def read(fileobj, name: str, *, limits: Limits | None = None) -> tuple[list[Contact], list[tuple[int, str]]]:
    """Every good row and every bad one (line, reason); ImportFileError for a file refused whole
    (also one beyond `limits`: the page reads in the request, so it allows fewer rows)."""
    contacts, errors = [], []
    with open_table(fileobj, name, limits=limits) as table:
        known, attributes = read_columns(header(table))
        for line, values in table.records():
            if line == 1 or blank_row(values):
                continue
            try:
                contacts.append(parse_row(line, values, known, attributes))
            except ValueError as exc:
                errors.append((line, " ".join(str(p) for p in exc.args[0])))
    if not contacts and not errors:
        raise ImportFileError(_("The file has no rows below its header."))
    return contacts, errors


def upsert(*, organization, contacts: list[Contact], result: ContactList | None = None) -> ContactList:
    """Match or create each contact's customer and update it from the row; one transaction."""
    result = result or ContactList()
    seen: dict[int, int] = {}  # customer -> the line that named them first
    with transaction.atomic():
        for contact in contacts:
            customer, created, problem = _customer_for(organization, contact)
            if problem:
                result.errors.append((contact.line, problem))
                continue
            if customer.pk in seen:
                result.duplicates.append((contact.line, seen[customer.pk]))
                continue
            seen[customer.pk] = contact.line
            result.customer_ids.append(customer.pk)
            if created:
                result.created += 1
            elif _update(customer, contact):
                result.updated += 1
    result.errors.sort()
    return result


def _customer_for(organization, contact: Contact) -> tuple[Customer | None, bool, str]:
    existing = find_customer(organization, external_id=contact.external_id, email=contact.email,
                             phone=contact.phone)
    if existing is None:
        customer = match_or_create_customer(organization, external_id=contact.external_id, email=contact.email,
                                            phone=contact.phone, name=contact.name, language=contact.language)
        if contact.attributes:
            customer.attributes = {**(customer.attributes or {}), **contact.attributes}
            customer.save(update_fields=["attributes"])
        return customer, True, ""
    # The row's identities must not belong to another customer: one customer per each.
    for field_name, value in (("external_id", contact.external_id), ("email", contact.email),
                              ("phone", contact.phone)):
        current = getattr(existing, field_name) or ""
        same = current.lower() == value.lower() if field_name == "email" else current == value
        if not value or same:
            continue
        if field_name == "external_id" and current:
            return None, False, _("The customer with this e-mail or phone has the external id %(other)s, not "
                                  "%(value)s.") % {"other": current[:40], "value": value[:40]}
        if identity_taken(organization, field=field_name, value=value, exclude_pk=existing.pk):
            other = find_customer(organization, **{field_name: value})
            message = (_("The e-mail %(value)s belongs to another customer (external id %(other)s).")
                       if field_name == "email" else
                       _("The phone %(value)s belongs to another customer (external id %(other)s)."))
            return None, False, message % {"value": value[:60], "other": (other.external_id if other else "") or "—"}
    return existing, False, ""


def _update(customer: Customer, contact: Contact) -> bool:
    """The file's values on an existing customer (a blank cell changes nothing). True if changed."""
    changed = []
    for field_name, value in (("external_id", contact.external_id), ("email", contact.email),
                              ("phone", contact.phone), ("name", contact.name), ("language", contact.language)):
        current = getattr(customer, field_name) or ""
        if value and (current.lower() != value.lower() if field_name == "email" else current != value):
            setattr(customer, field_name, value)
            changed.append(field_name)
    if contact.attributes:
        attributes = {**(customer.attributes or {}), **contact.attributes}
        if attributes != (customer.attributes or {}):
            customer.attributes = attributes
            changed.append("attributes")
    if changed:
        customer.save(update_fields=changed)
    return bool(changed)


def make_audience(*, organization, name: str, customer_ids: list[int], user=None) -> Audience:
    """A LIST audience of these customers (already the organization's)."""
    audience = Audience.objects.create(organization=organization, name=name[:200], kind=Audience.Kind.LIST,
                                       created_by=user)
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, customer_id=pk) for pk in customer_ids],
                                       batch_size=5000)
    return audience
