"""The conversation with the customer on an item: an agent's reply goes out by e-mail, and what
the customer writes back lands on the same item and reopens it.

A reply is saved first (status `queued`) and e-mailed by a worker after the commit — never
inside the transaction — and a beat task hands on replies whose task was lost. Sending claims
the message with a conditional UPDATE, so a duplicated task does not mail the customer twice.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxplatform import wording
from cxplatform.input_checks import int_or_none

from . import activity, sla
from . import wordings as w
from .models import CannedReply, FeedbackItem, Message

logger = logging.getLogger(__name__)

MAX_TEXT = 20_000
CLAIM = timedelta(minutes=10)  # a worker that dies mid-send frees the reply after this
MAX_ATTEMPTS = 5
REQUEUE_AFTER = timedelta(seconds=60)  # a queued reply older than this lost its task
REOPENING = (FeedbackItem.Status.WAITING, FeedbackItem.Status.RESOLVED, FeedbackItem.Status.CLOSED)


class ReplyError(ValueError):
    """The reply cannot be sent; the message is for the agent."""


class StaleItem(Exception):
    """The item changed since the agent opened it: the status change (and the reply) were not saved."""


def message_id(message: Message) -> str:
    """The Message-ID of a reply's e-mail: the customer's answer names it in In-Reply-To, which
    finds the item again (see `item_for_thread`)."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "cx.invalid"
    return f"<cx-reply-{message.pk}@{domain}>"


def reply(item: FeedbackItem, author, text: str, *, status: str | None = None, version: int | None = None) -> Message:
    """Queue an e-mail reply to the item's customer; with `status` (e.g. waiting on customer),
    move the item there too, as seen at `version` — if a colleague changed it meanwhile, nothing
    is saved (StaleItem)."""
    text = (text or "").strip()
    if not text:
        raise ReplyError(_("The reply is empty."))
    address = item.customer.email if item.customer_id else ""
    if not address:
        raise ReplyError(_("This customer has no e-mail address, so no reply can be sent. "
                           "Add the address on the customer's page first."))
    now = timezone.now()
    with transaction.atomic():
        # The first response is the earliest one, whatever this agent's copy of the item says.
        clock = {"updated_at": now, "first_responded_at": Coalesce(F("first_responded_at"), Value(now))}
        if status is not None and status != item.status:
            if version is None:
                raise ValueError("a status change names the version it was made on")
            moved = _move(item, status, now, version=version, **clock)
            if not moved:
                raise StaleItem()
            if status in sla.DONE and item.status not in sla.DONE:
                from .services import item_resolved

                item_resolved(item)
        else:
            # A first reply takes a new item on (unless a colleague has just moved it elsewhere).
            moved = item.status == FeedbackItem.Status.NEW and _move(item, FeedbackItem.Status.OPEN, now,
                                                                     was=FeedbackItem.Status.NEW, **clock)
            if not moved:
                FeedbackItem.objects.filter(pk=item.pk).update(**clock)
        new_status = (status or FeedbackItem.Status.OPEN) if moved else None
        message = Message.objects.create(organization_id=item.organization_id, item=item,
                                         direction=Message.Direction.OUT, author=author, text=text[:MAX_TEXT],
                                         to_address=address, status=Message.Status.QUEUED)
        activity.log(item, "replied", wording.message(w.REPLIED_MOVED, status=new_status) if new_status
                     else wording.message(w.REPLIED), actor=author,
                     details={"message": message.pk, **({"status": new_status} if new_status else {})})
        transaction.on_commit(lambda: enqueue(message.pk))
    item.refresh_from_db()
    return message


def _move(item, status, now, *, version=None, was=None, **clock) -> bool:
    """Set the item's status if it is still as the agent saw it (`version`, or status `was`)."""
    lookup = {"pk": item.pk}
    if version is not None:
        lookup["version"] = version
    if was is not None:
        lookup["status"] = was
    if status in sla.DONE:
        clock["resolved_at"] = Coalesce(F("resolved_at"), Value(now))
    return bool(FeedbackItem.objects.filter(**lookup).update(status=status, version=F("version") + 1, **clock))


def enqueue(message_id: int) -> bool:
    from .tasks import send_reply

    try:
        send_reply.apply_async(args=[message_id])
    except Exception:  # the broker is down: the beat task hands the reply on later
        logger.warning("could not enqueue reply %s; it stays queued", message_id, exc_info=True)
        return False
    return True


def send(message_id: int) -> bool:
    """E-mail one reply. False when it is not ours to send (sent, or another worker has it)."""
    now = timezone.now()
    claimed = (Message.objects.filter(pk=message_id, direction=Message.Direction.OUT)
               .filter(Q(status=Message.Status.QUEUED) | Q(status=Message.Status.SENDING, claimed_until__lt=now))
               .update(status=Message.Status.SENDING, claimed_until=now + CLAIM, attempts=F("attempts") + 1))
    if not claimed:
        return False
    message = Message.objects.select_related("item__organization", "item__customer", "author").get(pk=message_id)
    try:
        _mail(message)
    except Exception as exc:
        gave_up = message.attempts >= MAX_ATTEMPTS
        Message.objects.filter(pk=message_id).update(
            status=Message.Status.FAILED if gave_up else Message.Status.QUEUED, claimed_until=None,
            error=repr(exc)[:500])
        if gave_up:
            activity.log(message.item, "reply_failed", wording.message(w.REPLY_FAILED), details={"message": message_id})
            return False
        raise  # the task retries with a back-off
    Message.objects.filter(pk=message_id).update(status=Message.Status.SENT, sent_at=timezone.now(),
                                                 claimed_until=None, error="")
    return True


def _mail(message: Message) -> None:
    item = message.item
    language = (item.customer.language if item.customer_id else "") or item.language or \
        item.organization.default_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Re: your message to %(organization)s (#%(id)s)") % {
            "organization": item.organization.name, "id": item.pk}
    email = EmailMessage(subject, message.text, settings.DEFAULT_FROM_EMAIL, [message.to_address],
                         headers={"Message-ID": message_id(message)},
                         reply_to=[settings.INBOX_REPLY_TO] if settings.INBOX_REPLY_TO else None)
    email.send()


def requeue_lost(now=None) -> int:
    """Hand on the replies whose task never ran (broker outage) or whose worker died."""
    now = now or timezone.now()
    ids = list(Message.objects.filter(direction=Message.Direction.OUT)
               .filter(Q(status=Message.Status.QUEUED, created_at__lt=now - REQUEUE_AFTER)
                       | Q(status=Message.Status.SENDING, claimed_until__lt=now))
               .values_list("pk", flat=True)[:500])
    return sum(enqueue(pk) for pk in ids)


# --- The customer writes again ------------------------------------------------------------------

def item_for_thread(organization, reference: str) -> FeedbackItem | None:
    """The item a customer's message continues: named by the id its first message had at the
    source (a chat's conversation id, the first e-mail's Message-ID), or by the Message-ID of one
    of our replies."""
    reference = (reference or "").strip()
    if not reference:
        return None
    items = FeedbackItem.objects.filter(organization=organization)
    found = items.filter(source_id=reference).order_by("id").first()
    if found:
        return found
    marker = reference.strip("<>")
    if marker.startswith("cx-reply-"):
        pk = int_or_none(marker[len("cx-reply-"):].split("@", 1)[0], low=1)
        if pk is not None:
            return items.filter(messages__pk=pk, messages__direction=Message.Direction.OUT).first()
    return items.filter(messages__source_id=reference).first()


def customer_wrote(item: FeedbackItem, text: str, *, source_id: str = "", received_at=None) -> tuple[Message, bool]:
    """Add what the customer wrote to the item's conversation. An item waiting on the customer, or
    already resolved or closed, opens again (with a new resolution clock). Idempotent on
    `source_id`: the same message delivered twice is kept once. Returns (message, created)."""
    text = (text or "").strip()[:MAX_TEXT]
    if not text:
        raise ValueError("an empty message")
    now = timezone.now()
    try:
        with transaction.atomic():
            message = Message.objects.create(organization_id=item.organization_id, item=item,
                                             direction=Message.Direction.IN, text=text, source_id=source_id,
                                             status=Message.Status.RECEIVED)
            if received_at:
                Message.objects.filter(pk=message.pk).update(created_at=received_at)
            locked = FeedbackItem.objects.select_for_update(no_key=True).get(pk=item.pk)
            if locked.status in REOPENING:
                reopened = locked.status != FeedbackItem.Status.WAITING
                FeedbackItem.objects.filter(pk=item.pk).update(
                    status=FeedbackItem.Status.OPEN, version=F("version") + 1, updated_at=now,
                    **({"resolved_at": None, "sla_state": ""} if reopened else {}))
                if reopened:
                    sla.restart_resolution(locked, now)
                activity.log(item, "reopened" if reopened else "customer_replied",
                             wording.message(w.REOPENED, was=locked.status) if reopened
                             else wording.message(w.CUSTOMER_REPLIED),
                             details={"message": message.pk, "was": locked.status})
            else:
                activity.log(item, "customer_replied", wording.message(w.CUSTOMER_REPLIED),
                             details={"message": message.pk})
    except IntegrityError:  # this source id was received before
        return Message.objects.get(organization_id=item.organization_id, source_id=source_id), False
    item.refresh_from_db()
    return message, True


# --- Canned replies -----------------------------------------------------------------------------

def canned_for(item: FeedbackItem):
    """The organization's canned replies for the item's language (and those for every language)."""
    return CannedReply.objects.filter(organization_id=item.organization_id).filter(
        Q(language="") | Q(language=item.language or "")).order_by("title")


def fill(canned: CannedReply, item: FeedbackItem, agent) -> str:
    """The canned text with {customer}, {agent} and {item} filled in (nothing else is read from it,
    so a template cannot reach any other data)."""
    customer = (item.customer.name if item.customer_id else "") or ""
    values = {"{customer}": customer, "{agent}": (agent.get_full_name() or agent.username) if agent else "",
              "{item}": f"#{item.pk}"}
    text = canned.text
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text
