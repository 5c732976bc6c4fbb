"""Finding a person and what is held about them, always within one organization."""

import re
from dataclasses import dataclass, field

from django.db.models import Q, TextField
from django.db.models.functions import Cast, Lower

from cxplatform.models import Customer
from cxplatform.services import normalise_phone
from cxplatform.tenancy import scoped
from feedback.models import FeedbackItem, Message, Note
from invitations.models import Invitation, Suppression, TriggerEvent
from surveys.models import Answer, Response

EMAIL = "email"
PHONE = "phone"
EXTERNAL_ID = "external_id"
KINDS = (EMAIL, PHONE, EXTERNAL_ID)

# Names and external ids shorter than this are not looked for in free text: "Al" or "C1" would
# match far too much that is not about the person.
MIN_TEXT_IDENTIFIER = 4
LOOKS_LIKE_EMAIL = re.compile(r"[^@\s\"'<>]+@[^@\s\"'<>]+\.[^@\s\"'<>]+")
_PHONE_GAP = r"[\s().-]*"


@dataclass
class Subject:
    """A person as the organization knows them: the customers found and every identifier."""

    organization: object
    kind: str
    value: str
    customers: list = field(default_factory=list)
    emails: set = field(default_factory=set)
    phones: set = field(default_factory=set)  # normalised
    external_ids: set = field(default_factory=set)
    names: set = field(default_factory=set)

    @property
    def customer_ids(self) -> list[int]:
        return [c.pk for c in self.customers]

    @property
    def addresses(self) -> list[str]:
        return sorted(self.emails | self.phones)

    def phone_pattern(self, phone: str) -> str:
        """A phone as it may be written in free text: "+371 2000-0000" for "+37120000000"."""
        digits = phone.lstrip("+")
        return r"\+?" + _PHONE_GAP.join(re.escape(d) for d in digits)

    def pattern(self) -> re.Pattern | None:
        """Every identifier of the person as it may appear in text (names and ids as whole words)."""
        parts = [re.escape(e) for e in self.emails if e]
        parts += [self.phone_pattern(p) for p in self.phones if len(p.lstrip("+")) >= 5]
        parts += [rf"(?<!\w){re.escape(v)}(?!\w)" for v in self.external_ids | self.names
                  if len(v) >= MIN_TEXT_IDENTIFIER]
        if not parts:
            return None
        # Longest first, so an e-mail is replaced whole before a name inside it.
        return re.compile("|".join(sorted(parts, key=len, reverse=True)), re.IGNORECASE)

    def naming(self, lookup: str) -> Q:
        """Rows whose text column `lookup` may name the person (checked again with `pattern`)."""
        q = Q()
        for email in self.emails:
            q |= Q(**{f"{lookup}__icontains": email})
        for phone in self.phones:
            if len(phone.lstrip("+")) >= 5:
                q |= Q(**{f"{lookup}__iregex": self.phone_pattern(phone)})
        for value in self.external_ids | self.names:
            if len(value) >= MIN_TEXT_IDENTIFIER:
                q |= Q(**{f"{lookup}__icontains": value})
        return q if q else Q(pk__in=[])

    def addressed(self, lookup: str) -> Q:
        """Rows whose address column `lookup` is one of the person's (e-mail in any case)."""
        q = Q()
        for email in self.emails:
            q |= Q(**{f"{lookup}__iexact": email})
        if self.phones:
            q |= Q(**{f"{lookup}__in": sorted(self.phones)})
        return q if q else Q(pk__in=[])

    def names_them(self, text) -> bool:
        pattern = self.pattern()
        return bool(pattern and text and pattern.search(str(text)))


def find_subject(*, organization, kind: str, value: str) -> Subject:
    """The organization's customers with this e-mail (any case), phone (normalised) or external id,
    and the identifiers they and the search give."""
    value = value.strip()
    subject = Subject(organization=organization, kind=kind, value=value)
    customers = scoped(Customer, organization)
    if kind == EMAIL:
        value = value.lower()
        subject.emails.add(value)
        found = customers.annotate(email_key=Lower("email")).filter(email_key=value)
    elif kind == PHONE:
        value = normalise_phone(value)
        subject.phones.add(value)
        found = customers.filter(phone=value)
    elif kind == EXTERNAL_ID:
        subject.external_ids.add(value)
        found = customers.filter(external_id=value)
    else:
        raise ValueError(f"unknown identifier kind {kind!r}")
    subject.value = value
    for customer in found.order_by("id"):
        _add_customer(subject, customer)
    return subject


def subject_of_customer(customer) -> Subject:
    """One customer as a subject (retention erases customer by customer)."""
    subject = Subject(organization=customer.organization, kind="customer", value=str(customer.pk))
    _add_customer(subject, customer)
    return subject


def _add_customer(subject: Subject, customer) -> None:
    subject.customers.append(customer)
    if customer.email:
        subject.emails.add(customer.email.lower())
    if customer.phone:
        subject.phones.add(normalise_phone(customer.phone))
    if customer.external_id:
        subject.external_ids.add(customer.external_id)
    if customer.name:
        subject.names.add(customer.name)


def responses_of(subject: Subject):
    """Their answers: of their customers, or whose comment or hidden fields name them."""
    org_responses = scoped(Response, subject.organization)
    linked = Q(customer_id__in=subject.customer_ids)
    named = (org_responses.filter(customer__isnull=True)
             .annotate(hidden_text=Cast("hidden_fields", TextField()))
             .filter(subject.naming("comment") | subject.naming("hidden_text")))
    named_ids = [r.pk for r in named if subject.names_them(r.comment) or subject.names_them(r.hidden_text)]
    return org_responses.filter(linked | Q(pk__in=named_ids)).select_related("survey", "touchpoint", "channel")


def answers_of(subject: Subject, responses=None):
    responses = responses if responses is not None else responses_of(subject)
    return Answer.objects.filter(response__in=responses).select_related("question")


def items_of(subject: Subject, responses=None):
    """Their inbox items and cases: of their customers or answers, or naming them without a
    customer (an e-mail from the address, a review that quotes the phone)."""
    responses = responses if responses is not None else responses_of(subject)
    items = scoped(FeedbackItem, subject.organization)
    to_them = Message.objects.filter(organization=subject.organization).filter(
        subject.addressed("to_address")).values("item_id")
    candidates = items.filter(customer__isnull=True).filter(
        subject.naming("text") | subject.naming("resolution_note") | subject.naming("source_id")
        | Q(pk__in=to_them) | Q(pk__in=Message.objects.filter(organization=subject.organization).filter(
            subject.naming("text")).values("item_id")))
    unlinked = [i.pk for i in candidates.prefetch_related("messages")
                if any(subject.names_them(t) for t in (i.text, i.resolution_note, i.source_id))
                or any(m.to_address.lower() in subject.emails or subject.names_them(m.text) for m in i.messages.all())]
    return items.filter(Q(customer_id__in=subject.customer_ids) | Q(response__in=responses.values("pk"))
                        | Q(pk__in=unlinked)).distinct()


def messages_of(subject: Subject, items=None):
    items = items if items is not None else items_of(subject)
    return Message.objects.filter(organization=subject.organization).filter(
        Q(item__in=items.values("pk")) | subject.addressed("to_address")).distinct()


def notes_of(subject: Subject, items=None):
    """Notes on their items, and notes elsewhere that name them."""
    items = items if items is not None else items_of(subject)
    org_notes = Note.objects.filter(item__organization=subject.organization)
    naming = [n.pk for n in org_notes.exclude(item__in=items.values("pk")).filter(subject.naming("text"))
              if subject.names_them(n.text)]
    return org_notes.filter(Q(item__in=items.values("pk")) | Q(pk__in=naming)).distinct()


def invitations_of(subject: Subject):
    return scoped(Invitation, subject.organization).filter(
        Q(customer_id__in=subject.customer_ids) | subject.addressed("address"))


def trigger_events_of(subject: Subject):
    return scoped(TriggerEvent, subject.organization).filter(customer_id__in=subject.customer_ids)


def suppressions_of(subject: Subject):
    return scoped(Suppression, subject.organization).filter(
        subject.addressed("address") | Q(customer_id__in=subject.customer_ids))


def holdings(subject: Subject) -> dict:
    """Everything held about the person, as querysets by kind."""
    responses = responses_of(subject)
    items = items_of(subject, responses)
    return {
        "responses": responses,
        "answers": answers_of(subject, responses),
        "items": items.filter(kind=FeedbackItem.Kind.VOICE),
        "cases": items.filter(kind=FeedbackItem.Kind.CASE),
        "messages": messages_of(subject, items),
        "notes": notes_of(subject, items),
        "invitations": invitations_of(subject),
        "trigger_events": trigger_events_of(subject),
        "suppressions": suppressions_of(subject),
    }


def counts(subject: Subject) -> dict[str, int]:
    found = holdings(subject)
    result = {kind: qs.count() for kind, qs in found.items()}
    result["comments"] = found["responses"].exclude(comment="").count()
    result["customers"] = len(subject.customers)
    return result


def anything_held(held: dict[str, int]) -> bool:
    return any(n for kind, n in held.items() if kind != "suppressions")
