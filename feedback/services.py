"""Business rules of the inbox: every voice becomes exactly one item, whatever the retries."""

import logging
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform import events, wording
from cxplatform import services as platform
from cxplatform.models import NotificationKind
from cxplatform.naming import names_of_message
from cxplatform.personal_data import ERASED_TEXT
from cxplatform.services import match_or_create_customer
from cxplatform.textinsight.reading import Reading, read
from cxplatform.textinsight.tokens import search_text
from invitations import services as invitations
from invitations.models import TriggerRule

from . import activity, conversation, notices, sla
from . import wordings as w
from .models import FeedbackItem, ItemTheme, Tag

logger = logging.getLogger(__name__)

DEFAULT_TAGS = [_("sales lead"), _("feature request"), _("incident / crisis"), _("technical problem"),
                _("user-generated content"), _("complaint"), _("praise")]
MAX_TEXT = 20_000
ITEM_RECEIVED = events.declare("feedback.item_received", fields={"item_id"})
# An item's text changed (the source sent it again, edited) and waits to be read (payload: item_id).
ITEM_TEXT_CHANGED = events.declare("feedback.item_text_changed", fields={"item_id"})
# Public events (outgoing webhooks subscribe): a call-back case opened (loop.open_case), resolved.
CASE_OPENED = events.declare("case.opened", fields={"item_id"})
CASE_RESOLVED = events.declare("case.resolved", fields={"item_id"})


# Organizations (id and creation time: an id alone may come back in another database) whose tag
# list this process has seen: every new inbox item asked again otherwise, one query each.
_seeded: set[tuple[int, object]] = set()


def ensure_default_tags(organization) -> None:
    """Seed the organization's tag list (in its language) the first time the inbox is used."""
    from django.utils import translation

    key = (organization.pk, organization.created_at)
    if key in _seeded:
        return
    if Tag.objects.filter(organization=organization).exists():
        # Once committed: seeded by this very transaction, the tags may still roll back.
        transaction.on_commit(lambda: _seeded.add(key))
        return
    with translation.override(organization.default_language or "en"):
        Tag.objects.bulk_create([Tag(organization=organization, name=str(name), names=names_of_message(name))
                                 for name in DEFAULT_TAGS], ignore_conflicts=True)
    transaction.on_commit(lambda: _seeded.add(key))  # remembered once the seeding is committed


@dataclass
class Voice:
    """What a source says: the text and whatever else it knows."""

    source: str
    text: str
    source_id: str = ""
    received_at: object = None
    rating: int | None = None
    language: str = ""
    channel: object = None
    touchpoint: object = None
    customer: object = None
    customer_ref: dict | None = None  # {"external_id"|"email"|"phone": …} when the customer object is unknown
    response_id: int | None = None
    # The conversation this continues (a chat id, the In-Reply-To of an e-mail): the customer
    # writing again on an item already in the inbox adds to it, and reopens it, instead of a new item.
    reply_to: str = ""


def ingest(organization, voice: Voice, actor=None) -> tuple[FeedbackItem, bool]:
    """Create the item for `voice`, or return the one already made from the same `source_id`
    (updated if the source's text changed). Returns (item, created)."""
    text = (voice.text or "").strip()[:MAX_TEXT]
    earlier = conversation.item_for_thread(organization, voice.reply_to) if voice.reply_to else None
    if earlier is not None:
        conversation.customer_wrote(earlier, text, source_id=voice.source_id, received_at=voice.received_at)
        return earlier, False
    customer = voice.customer
    if customer is None and voice.customer_ref:
        customer = match_or_create_customer(organization, **voice.customer_ref)
    # Nothing is read here: the request that brings the voice never waits for the model. The
    # ITEM_RECEIVED worker reads the text (sentiment, language, themes), then routes it.
    fields = {
        "text": text, "rating": voice.rating, "language": voice.language, "sentiment": None, "text_read": not text,
        "channel": voice.channel, "touchpoint": voice.touchpoint,
        "customer": customer, "received_at": voice.received_at or timezone.now(), "response_id": voice.response_id,
    }
    if voice.source_id:
        known = FeedbackItem.objects.filter(organization=organization, source=voice.source, source_id=voice.source_id)
        item, created = known.first(), False
        if item is None:
            try:
                with transaction.atomic():
                    item, created = FeedbackItem.objects.create(
                        organization=organization, source=voice.source, source_id=voice.source_id, **fields), True
            except IntegrityError:  # a concurrent ingest of the same source id won
                item = known.get()
        if not created and item.text != text:
            text_changed(item, text=text, language=voice.language, rating=voice.rating, actor=actor)
            item.refresh_from_db()
    else:
        item, created = FeedbackItem.objects.create(organization=organization, source=voice.source, **fields), True
    if created:
        ensure_default_tags(organization)
        sla.start_clock(item)
        # Together, with no savepoint of their own: nobody goes on in a transaction this failed.
        with transaction.atomic(savepoint=False):
            activity.log(item, "received", wording.message(w.RECEIVED, source=voice.source), actor=actor,
                         details={"source": voice.source})
            events.emit(ITEM_RECEIVED, organization=organization, item_id=item.pk)  # routing, by a worker
    return item, created


def text_changed(item: FeedbackItem, *, text: str, language: str = "", rating=None, actor=None) -> None:
    """The source sent the item's text again, changed: what was read of the old text no longer holds
    (its sentiment and themes go), and a worker reads the new one (ITEM_TEXT_CHANGED)."""
    with transaction.atomic():
        FeedbackItem.objects.filter(pk=item.pk).update(
            text=text, search_words=search_text(text), sentiment=None, text_read=not text, rating=rating,
            language=language or F("language"))
        ItemTheme.objects.filter(item_id=item.pk).delete()
        activity.log(item, "text_updated", wording.message(w.TEXT_UPDATED), actor=actor)
        if text:
            events.emit(ITEM_TEXT_CHANGED, organization=item.organization, item_id=item.pk)


# --- Reading the text (on a worker) ---------------------------------------------------------------

def _theme_rows(item: FeedbackItem, reading: Reading | None) -> list[ItemTheme]:
    if reading is None:
        return []
    return [ItemTheme(organization_id=item.organization_id, item_id=item.pk, key=key[:80], sentiment=sign)
            for key, sign in reading.theme_sentiments().items()]


def _apply(item: FeedbackItem, reading: Reading | None) -> None:
    """Set the item's reading fields (unsaved) from `reading`."""
    item.sentiment = reading.sentiment.value if reading and reading.sentiment else None
    if reading is not None:
        item.language = reading.language[:5]
    item.text_read = True


def read_item(*, item_id: int) -> bool:
    """Read the item's *current* text, under its row lock, unless it was read already (a redelivered
    event, or a later text read first): so routing and figures see the latest text's sentiment and
    themes, each text is read once, and the last text wins. Returns whether it read one."""
    with transaction.atomic(savepoint=False):  # the delivery's transaction is the one that counts
        item = (FeedbackItem.objects.select_for_update(no_key=True).filter(pk=item_id)
                .only("pk", "organization_id", "text", "language", "sentiment", "text_read").first())
        if item is None or item.text_read:
            return False
        if item.text == ERASED_TEXT:  # erased: it keeps what was read of the text before
            FeedbackItem.objects.filter(pk=item.pk).update(text_read=True)
            return False
        try:
            reading = read(item.text, item.language)
        except Exception:  # a text the reader cannot take: routing and the inbox go on without it
            logger.exception("could not read the text of inbox item %s", item.pk)
            reading = None
        _apply(item, reading)
        # An UPDATE, not save(): reading is no edit of the item (its version and updated_at stay).
        FeedbackItem.objects.filter(pk=item.pk).update(sentiment=item.sentiment, language=item.language,
                                                       text_read=True)
        ItemTheme.objects.filter(item_id=item.pk).delete()
        ItemTheme.objects.bulk_create(_theme_rows(item, reading))
    return True


def reread_items(items: QuerySet, chunk_size: int = 2000) -> int:
    """Read the texts of `items` again — after a model or dictionary change, or for items never read
    (bulk loads) — each chunk in one transaction; nothing doubles however often it runs. Returns how
    many were read."""
    done, last = 0, 0
    while True:
        with transaction.atomic():
            ids = list(items.exclude(text__in=["", ERASED_TEXT]).filter(pk__gt=last).order_by("pk")
                       .values_list("pk", flat=True)[:chunk_size])
            batch = list(FeedbackItem.objects.filter(pk__in=ids).select_for_update(no_key=True).order_by("pk")
                         .only("pk", "organization_id", "text", "language", "sentiment", "text_read"))
            if not ids:
                return done
            rows = []
            for item in batch:
                reading = read(item.text, item.language)
                _apply(item, reading)
                rows += _theme_rows(item, reading)
            FeedbackItem.objects.bulk_update(batch, ["sentiment", "language", "text_read"])
            ItemTheme.objects.filter(item__in=batch).delete()
            ItemTheme.objects.bulk_create(rows, batch_size=5000)
        done, last = done + len(batch), ids[-1]


def reindex_search(*, items: QuerySet, batch: int = 1000) -> int:
    """Write the search words of `items` again from their text (after the normaliser changed, or
    for rows written around the model, e.g. by SQL); returns how many items were written."""
    done, last = 0, 0
    while True:
        rows = list(items.filter(pk__gt=last).order_by("pk").only("pk", "text")[:batch])
        if not rows:
            return done
        for row in rows:
            row.search_words = search_text(row.text)
        items.model.objects.bulk_update(rows, ["search_words"])
        done, last = done + len(rows), rows[-1].pk


def from_survey_response(response_id: int) -> FeedbackItem | None:
    """The inbox item of a survey answer's comment, once the answer is final (the `response.recorded`
    handler; `comment_item` on the answer's row, held)."""
    from surveys.models import Response

    with transaction.atomic(savepoint=False):  # the delivery's transaction is the one that counts
        # The answer's row is held while its item is written, so of two quick changes the later
        # one's text is the one kept (the loop's settlement takes the same lock).
        response = (Response.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("organization", "touchpoint", "channel", "customer")
                    .filter(pk=response_id).first())
        return comment_item(response) if response is not None else None


def comment_item(response) -> FeedbackItem | None:
    """The inbox item of a final answer's comment, made once (keyed by the answer) and kept to its
    text. The caller holds the answer's row. An imported answer is history: its comment feeds the
    figures (sentiment, themes), not the inbox (docs/adr/0012)."""
    from surveys.models import Response

    if not response.is_final or response.source == Response.Source.IMPORT or not response.comment.strip():
        return None
    voice = Voice(source=FeedbackItem.Source.SURVEY, source_id=f"response:{response.pk}",
                  text=response.comment, received_at=response.given_at, rating=response.score,
                  language=response.language, channel=response.channel, touchpoint=response.touchpoint,
                  customer=response.customer, response_id=response.pk)
    item, _created = ingest(response.organization, voice)
    return item


# --- Triage: every change names the version it was made on --------------------------------------

class StaleEdit(Exception):
    """Someone changed the item after this agent opened it: nothing was saved."""


class CaseNeedsRootCause(ValueError):
    """A closed-loop case is resolved with its root cause and what was done (loop.resolve_case)."""

    message = _("A call-back case is resolved with its root cause and what was done: use “Close the loop”.")


TRIAGE_FIELDS = {"status", "priority", "team", "assignee"}
MENTION = re.compile(r"@([\w.+-]+)")


def triage(item: FeedbackItem, actor, version: int, tags=None, *, tell: bool = True, **changes) -> FeedbackItem:
    """Change status, priority, team, assignee and tags of `item` as seen at `version`. Two agents
    editing at once: the second one's save is refused with StaleEdit (and changes nothing), so
    no change is ever silently lost."""
    unknown = set(changes) - TRIAGE_FIELDS
    if unknown:
        raise ValueError(f"not a triage field: {sorted(unknown)}")
    if item.kind == FeedbackItem.Kind.CASE and changes.get("status") in sla.DONE and item.root_cause_id is None:
        raise CaseNeedsRootCause()
    now = timezone.now()
    clock = {}
    if changes.get("status") not in (None, FeedbackItem.Status.NEW) and item.first_responded_at is None:
        clock["first_responded_at"] = now  # the first time an agent moved the item on
    if changes.get("status") in sla.DONE and item.resolved_at is None:
        clock["resolved_at"] = now
    before = {"status": item.status, "priority": item.priority, "team": item.team, "assignee": item.assignee,
              "tags": [t.name for t in item.tags.all()]}
    with transaction.atomic():
        updated = FeedbackItem.objects.filter(pk=item.pk, version=version).update(
            **changes, **clock, version=F("version") + 1, updated_at=now)
        if not updated:
            raise StaleEdit()
        priority_before = item.priority
        item.refresh_from_db()
        if item.priority != priority_before:
            sla.start_clock(item)
        if tags is not None:
            item.tags.set(tags)
        details = {k: str(getattr(v, "pk", v)) if v is not None else None for k, v in changes.items()}
        if tags is not None:
            details["tags"] = sorted(t.name for t in tags)
        after = {**changes, **({"tags": details["tags"]} if tags is not None else {})}
        activity.log(item, "triaged", wording.message(w.TRIAGED, changes=activity.change_messages(before, after)),
                     actor=actor, details=details)
        if tell and item.assignee_id and item.assignee_id != getattr(before["assignee"], "pk", None):
            notices.item_given(item, to=item.assignee, by=actor)
        if before["status"] not in sla.DONE and item.status in sla.DONE:
            item_resolved(item)
            if item.kind == FeedbackItem.Kind.CASE:
                events.emit(CASE_RESOLVED, organization=item.organization, item_id=item.pk)
    return item


ITEM_RESOLVED_EVENT = "inbox_item_resolved"  # one of invitations.services.BUILT_IN_EVENTS


def item_resolved(item: FeedbackItem) -> None:
    """The built-in trigger: a rule such as "CSAT 1 hour after an inbox item is resolved" asks the
    item's customer, once per item however often it is reopened and resolved again (the key).
    Called in the resolving transaction, so a rolled-back resolve asks nobody; costs one indexed
    query when no rule listens, so resolving stays fast."""
    if item.customer_id is None or not TriggerRule.objects.filter(
            organization_id=item.organization_id, event=ITEM_RESOLVED_EVENT, active=True).exists():
        return
    customer = item.customer
    if not (customer.external_id or customer.email or customer.phone):
        return  # nobody to ask
    invitations.receive_trigger(
        organization=item.organization, event=ITEM_RESOLVED_EVENT, idempotency_key=f"inbox-item-{item.pk}-resolved",
        external_id=customer.external_id, email=customer.email, phone=customer.phone,
        touchpoint_id=item.touchpoint_id, payload={"inbox_item": item.pk})


def add_note(item: FeedbackItem, author, text: str):
    """An internal note; @username mentions of the organization's members are linked, and each
    one mentioned is notified (as they chose) — never the author, never anyone of another
    organization, and once per note whatever re-runs."""
    from django.contrib.auth import get_user_model

    from .models import Note

    text = text.strip()
    if not text:
        raise ValueError("empty note")
    with transaction.atomic():
        note = Note.objects.create(item=item, author=author, text=text[:MAX_TEXT])
        names = set(MENTION.findall(text))
        members = list(get_user_model().objects.filter(
            username__in=names, memberships__organization_id=item.organization_id,
            memberships__is_active=True).order_by("username")) \
            if names else []
        note.mentions.set(members)
        message = (wording.message(w.NOTED_MENTIONING, people=[activity.name_of(m) for m in members]) if members
                   else wording.message(w.NOTED))
        activity.log(item, "noted", message, actor=author, details={"note": note.pk})
        link = reverse("feedback:item_detail", kwargs={"feedback_item_id": item.pk})
        for member in members:
            if member == author:
                continue
            platform.notify(user=member, organization=item.organization, kind=NotificationKind.MENTION,
                            message=wording.message(w.MENTION, who=activity.name_of(author), item=item.pk),
                            link=link, key=f"mention:note:{note.pk}")
    return note


@dataclass
class BulkOutcome:
    updated: list[int]
    stale: list[int]  # changed by someone since the agent's list was loaded: left as they are
    cases: list[int] = field(default_factory=list)  # call-back cases, which close with their root cause


def bulk_triage(organization, actor, versions: dict[int, int], *, add_tag=None, assignee=None,
                unassign=False, status=None) -> BulkOutcome:
    """Tag, assign or resolve several items at once. Each item is changed as the agent saw it in
    the list (`versions`: id → version); one a colleague changed since is left alone and reported,
    so a bulk action never overwrites anyone's work."""
    outcome = BulkOutcome(updated=[], stale=[])
    given = []  # told once at the end (notices.items_given), not once per item
    items = FeedbackItem.objects.filter(organization=organization, pk__in=list(versions)).prefetch_related("tags")
    for item in items.order_by("pk"):
        changes = {}
        if assignee is not None or unassign:
            changes["assignee"] = assignee
        if status:
            changes["status"] = status
        tags = sorted({*item.tags.all(), add_tag}, key=lambda t: t.pk) if add_tag is not None else None
        assigned_before = item.assignee_id
        try:
            item = triage(item, actor, versions[item.pk], tags=tags, tell=False, **changes)
        except StaleEdit:
            outcome.stale.append(item.pk)
        except CaseNeedsRootCause:
            outcome.cases.append(item.pk)
        else:
            outcome.updated.append(item.pk)
            if assignee is not None and assigned_before != assignee.pk:
                given.append(item)
    notices.items_given(organization, given, to=assignee, by=actor)
    return outcome


def save_view(organization, owner, name: str, query: str, *, shared: bool = False):
    """Keep a set of inbox filters under a name; saving the same name again replaces its filters."""
    from .models import SavedView

    return SavedView.objects.update_or_create(organization=organization, owner=owner, name=name.strip()[:80],
                                              defaults={"query": query[:1000], "shared": shared})


def from_offer_acceptance(acceptance_id: int) -> FeedbackItem | None:
    """A customer took a retention offer instead of leaving: an urgent item for the team to make it
    happen (the `retention.offer_accepted` handler; one item per acceptance)."""

    from surveys.models import OfferAcceptance

    acceptance = OfferAcceptance.objects.select_related("offer", "response__organization", "response__customer") \
        .filter(pk=acceptance_id).first()
    if acceptance is None:
        return None
    response, organization = acceptance.response, acceptance.response.organization
    said = wording.message(w.OFFER_ACCEPTED, offer=acceptance.offer.text)
    text = wording.text(said, language=organization.default_language or "en")  # for search
    item, created = ingest(organization, Voice(
        source=FeedbackItem.Source.SURVEY, source_id=f"offer:{acceptance.pk}", text=text,
        received_at=acceptance.created_at, language=response.language, channel=response.channel,
        touchpoint=response.touchpoint, customer=response.customer))
    if created:
        FeedbackItem.objects.filter(pk=item.pk).update(priority=FeedbackItem.Priority.URGENT, text_message=said)
        item.refresh_from_db()
        sla.start_clock(item)
    return item
