"""Where a customer's personal data lives, and what an erasure does to each place (docs/adr/0028).

A person (a data subject) is found by e-mail, phone or external id: the customers with that
identifier, and every row that is theirs or names them. Erasure keeps every figure: a response
stays with its score, band, sentiment, language, dates and themes, linked to the customer row,
which stays too as an anonymous customer with only what the figures read (its segment attribute,
language, dates and revenue). What identifies the person goes:

============================  ==================================  =============================================
Model.field                   Treatment                           Why this treatment
============================  ==================================  =============================================
cxplatform.Customer           name, email, phone, external_id     blanked; `attributes` keeps only the
                              blanked; attributes reduced         organization's segment attribute (metrics
                                                                  group by it); language, dates, revenue kept
                                                                  (churn, CLV, language breakdowns)
surveys.Response.comment      replaced by ERASED_TEXT             non-empty, so comment counts, sentiment
                                                                  shares and theme counts stay the same
surveys.Response.hidden_fields keys holding an identifier, an      the platform's own keys (follow-up case,
                              e-mail or named email/phone/name    invitation id) stay: figures exclude
                              dropped                             follow-up answers by that key
surveys.Response.client_key   hashed when it names the person     stays unique, so idempotency still holds
surveys.Answer.text           replaced by ERASED_TEXT             open-text answers are the person's words
feedback.FeedbackItem         text/resolution_note replaced,      the item stays (inbox and SLA figures);
                              text_message scrubbed, source_id    its search words are rewritten from the
                              hashed when it names them           marker
feedback.Message              text replaced, to_address blanked,  the conversation with the person
                              error scrubbed
feedback.Note                 on their items replaced; elsewhere  a note names them
                              occurrences scrubbed
feedback.ItemEvent            details/message scrubbed            activity may quote an address
feedback.PromoterThanks       to_address blanked
invitations.Invitation        address blanked, last_error         funnel counts read statuses, not addresses
                              scrubbed
invitations.TriggerEvent      payload scrubbed, idempotency_key   what the shop/CRM sent about them
                              hashed when it names them
invitations.AudienceMember    deleted                             an erased person is in no audience
invitations.Suppression       address KEPT (reason "erased"),     the one datum kept: without it the platform
                              customer/invitation unlinked        could write to them again; unlinked so it
                                                                  cannot be joined back to their answers
import jobs (3 kinds)         errors/failure scrubbed             a row report may echo the row
surveys.ExportJob             files expired at once               a written file may hold them; housekeeping
                                                                  deletes it
cxplatform.Notification,      scrubbed where they name them       free text written by the team
OutboxEvent, EventDelivery,
actions.ActionComment,
actions.HistoryEntry,
journeys.ActivityEntry,
integrations.WebhookCall
(body, response excerpts)
cxplatform.AuditEntry         KEPT                                append-only by design; records counts, never
                                                                  a customer's identifiers; purged after its
                                                                  retention period
============================  ==================================  =============================================

A new model or field that holds a customer's personal data is added to `PERSONAL_FIELDS` (and
handled in `privacy.services`), or to `NOT_SUBJECT_DATA` with the reason it is not a customer's.
`tests/privacy/test_registry.py` fails for an e-mail, phone or address field listed in neither.
"""

import re
from dataclasses import dataclass

from cxplatform.personal_data import ERASED_TEXT  # noqa: F401 (what an erased text says; privacy's name for it)


class Treatment:
    BLANKED = "blanked"  # the value becomes empty
    REPLACED = "replaced"  # the whole text becomes ERASED_TEXT
    SCRUBBED = "scrubbed"  # each occurrence of the person's identifiers becomes ERASED_TEXT
    HASHED = "hashed"  # a key that names them becomes a hash of itself (stays unique)
    REDUCED = "reduced"  # only what the figures read is kept
    DELETED = "deleted"
    KEPT = "kept"  # kept on purpose: see `why`


@dataclass(frozen=True)
class PersonalField:
    model: str  # app_label.ModelName
    field: str
    treatment: str
    why: str = ""


PERSONAL_FIELDS: tuple[PersonalField, ...] = (
    PersonalField("cxplatform.Customer", "name", Treatment.BLANKED),
    PersonalField("cxplatform.Customer", "email", Treatment.BLANKED),
    PersonalField("cxplatform.Customer", "phone", Treatment.BLANKED),
    PersonalField("cxplatform.Customer", "external_id", Treatment.BLANKED),
    PersonalField("cxplatform.Customer", "attributes", Treatment.REDUCED, "the segment attribute feeds breakdowns"),
    PersonalField("surveys.Response", "comment", Treatment.REPLACED, "kept non-empty: comment counts stay"),
    PersonalField("surveys.Response", "hidden_fields", Treatment.SCRUBBED),
    PersonalField("surveys.Response", "client_key", Treatment.HASHED),
    PersonalField("surveys.Answer", "text", Treatment.REPLACED),
    PersonalField("feedback.FeedbackItem", "text", Treatment.REPLACED),
    PersonalField("feedback.FeedbackItem", "search_words", Treatment.REPLACED),
    PersonalField("feedback.FeedbackItem", "text_message", Treatment.SCRUBBED),
    PersonalField("feedback.FeedbackItem", "resolution_note", Treatment.REPLACED),
    PersonalField("feedback.FeedbackItem", "source_id", Treatment.HASHED),
    PersonalField("feedback.Message", "text", Treatment.REPLACED),
    PersonalField("feedback.Message", "to_address", Treatment.BLANKED),
    PersonalField("feedback.Message", "error", Treatment.SCRUBBED),
    PersonalField("feedback.Message", "source_id", Treatment.HASHED),
    PersonalField("feedback.Note", "text", Treatment.REPLACED, "scrubbed on items that are not theirs"),
    PersonalField("feedback.ItemEvent", "details", Treatment.SCRUBBED),
    PersonalField("feedback.ItemEvent", "message", Treatment.SCRUBBED),
    PersonalField("feedback.PromoterThanks", "to_address", Treatment.BLANKED),
    PersonalField("invitations.Invitation", "address", Treatment.BLANKED),
    PersonalField("invitations.Invitation", "last_error", Treatment.SCRUBBED),
    PersonalField("invitations.TriggerEvent", "payload", Treatment.SCRUBBED),
    PersonalField("invitations.TriggerEvent", "idempotency_key", Treatment.HASHED),
    PersonalField("invitations.AudienceMember", "customer", Treatment.DELETED),
    PersonalField("invitations.Suppression", "address", Treatment.KEPT,
                  "the erasure's own record: the platform never writes to the address again"),
    PersonalField("surveys.ImportJob", "errors", Treatment.SCRUBBED),
    PersonalField("surveys.ImportJob", "failure", Treatment.SCRUBBED),
    PersonalField("feedback.FeedbackImportJob", "errors", Treatment.SCRUBBED),
    PersonalField("feedback.FeedbackImportJob", "failure", Treatment.SCRUBBED),
    PersonalField("cxplatform.CustomerImportJob", "errors", Treatment.SCRUBBED),
    PersonalField("cxplatform.CustomerImportJob", "failure", Treatment.SCRUBBED),
    PersonalField("surveys.ExportJob", "file", Treatment.DELETED, "expired at once; housekeeping deletes the file"),
    PersonalField("cxplatform.Notification", "text", Treatment.SCRUBBED),
    PersonalField("cxplatform.Notification", "params", Treatment.SCRUBBED),
    PersonalField("cxplatform.OutboxEvent", "last_error", Treatment.SCRUBBED),
    PersonalField("cxplatform.EventDelivery", "last_error", Treatment.SCRUBBED),
    PersonalField("actions.ActionComment", "text", Treatment.SCRUBBED),
    PersonalField("actions.HistoryEntry", "subject", Treatment.SCRUBBED),
    PersonalField("actions.HistoryEntry", "changes", Treatment.SCRUBBED),
    PersonalField("journeys.ActivityEntry", "subject", Treatment.SCRUBBED),
    PersonalField("journeys.ActivityEntry", "details", Treatment.SCRUBBED),
    PersonalField("integrations.WebhookCall", "body", Treatment.SCRUBBED),
    PersonalField("integrations.WebhookCall", "response_excerpt", Treatment.SCRUBBED),
    PersonalField("integrations.WebhookAttempt", "response_excerpt", Treatment.SCRUBBED),
)

# Free text the team writes anywhere in the organization: scrubbed where it names the person.
# (model, field, is JSON)
NAMING_TEXTS: tuple[tuple[str, str, bool], ...] = (
    ("feedback.Note", "text", False),
    ("surveys.ImportJob", "errors", True),
    ("surveys.ImportJob", "failure", False),
    ("feedback.FeedbackImportJob", "errors", True),
    ("feedback.FeedbackImportJob", "failure", False),
    ("cxplatform.CustomerImportJob", "errors", True),
    ("cxplatform.CustomerImportJob", "failure", False),
    ("cxplatform.Notification", "text", False),
    ("cxplatform.Notification", "params", True),
    ("cxplatform.OutboxEvent", "last_error", False),
    ("actions.ActionComment", "text", False),
    ("actions.HistoryEntry", "subject", False),
    ("actions.HistoryEntry", "changes", True),
    ("journeys.ActivityEntry", "subject", False),
    ("journeys.ActivityEntry", "details", True),
    # What was pushed to the team's other systems (personal only if the subscription asked), and
    # what they answered: the delivery log keeps both.
    ("integrations.WebhookCall", "body", False),
    ("integrations.WebhookCall", "response_excerpt", False),
    ("integrations.WebhookAttempt", "response_excerpt", False),
)

# E-mail, phone or address fields that hold no customer's personal data, and why.
NOT_SUBJECT_DATA: dict[tuple[str, str], str] = {
    ("auth.User", "email"): "a member of the team, not a customer",
    ("cxplatform.MemberInvitation", "email"): "a colleague invited to the team, not a customer",
    ("cxplatform.AuditEntry", "ip_address"): "where a member of the team acted from",
    ("invitations.SendingProfile", "reply_to"): "the organization's own address",
    ("axes.AccessAttempt", "ip_address"): "sign-in attempts to the platform, not customers",
    ("axes.AccessFailureLog", "ip_address"): "sign-in attempts to the platform, not customers",
    ("axes.AccessLog", "ip_address"): "sign-ins to the platform, not customers",
}

# Field names that suggest an e-mail address or a phone number.
LOOKS_PERSONAL = re.compile(r"e_?mail|phone|address|msisdn", re.IGNORECASE)


def registered() -> set[tuple[str, str]]:
    return {(f.model, f.field) for f in PERSONAL_FIELDS} | set(NOT_SUBJECT_DATA)
