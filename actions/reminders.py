"""Daily reminders to action owners: an action due within three days, and an overdue one, each
reminded at most once per kind per day — in the app (the bell) and by e-mail.

The claim row (`ReminderDelivery`, unique per action, kind and day) and the in-app notification
are written in one transaction; the e-mail goes out after it commits, never inside it. The
e-mail is claimed again with a conditional update, so a retried task whose e-mail failed sends
it then, and a duplicated task never sends it twice.
"""

from datetime import date, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cxplatform import selectors, wording
from cxplatform import services as platform
from cxplatform.models import NotificationKind

from . import wordings
from .models import ActionItem, ReminderDelivery

DUE_SOON_DAYS = 3
Kind = ReminderDelivery.Kind


def kind_for(action: ActionItem, today: date) -> str | None:
    """Which reminder an action needs today, if any."""
    if not action.is_open or action.owner_id is None:
        return None
    if action.due_date < today:
        return Kind.OVERDUE
    if action.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return Kind.DUE_SOON
    return None


def due(today: date | None = None) -> list[tuple[int, str]]:
    """(action id, kind) of every reminder today still owes."""
    today = today or timezone.now().date()
    # An owner deactivated in the action's organization is not reminded (nor told by the bell).
    candidates = (ActionItem.objects.filter(status__in=ActionItem.OPEN, owner__isnull=False,
                                            due_date__lte=today + timedelta(days=DUE_SOON_DAYS),
                                            owner__memberships__organization=F("organization"),
                                            owner__memberships__is_active=True)
                  .exclude(reminders__day=today).order_by("due_date", "id"))
    return [(a.pk, kind_for(a, today)) for a in candidates]


def _message(action: ActionItem, kind: str) -> dict:
    return wording.message(wordings.OVERDUE if kind == Kind.OVERDUE else wordings.DUE_SOON,
                           action=action.title, due=action.due_date.isoformat())


def _texts(action: ActionItem, kind: str) -> tuple[str, str]:
    """The e-mail's subject (the notification's words) and body, in the active language."""
    subject = wording.text(_message(action, kind))
    values = {"action": action.title, "due": formats.date_format(action.due_date, "DATE_FORMAT")}
    if kind == Kind.OVERDUE:
        return (subject,
                _("The action “%(action)s” you own was due %(due)s and is not done yet. Mark it done, or move its "
                  "due date, so the plan stays true.") % values)
    return subject, _("The action “%(action)s” you own is due %(due)s.") % values


def _claim(action: ActionItem, kind: str, day: date):
    """The day's claim (and the in-app notification, written with it), or the existing claim."""
    link = reverse("actions:action_detail", kwargs={"action_item_id": action.pk})
    try:
        with transaction.atomic():
            claim = ReminderDelivery.objects.create(action_item=action, kind=kind, day=day)
            platform.notify(user=action.owner, organization=action.organization, kind=NotificationKind.REMINDER,
                            message=_message(action, kind), link=link, mailed_by_caller=True)
        return claim, True
    except IntegrityError:
        return ReminderDelivery.objects.filter(action_item=action, kind=kind, day=day).first(), False


def _mail_once(claim: ReminderDelivery, action: ActionItem, kind: str) -> bool:
    if not platform.wants_mail(user=action.owner, kind=NotificationKind.REMINDER):
        return False
    if not ReminderDelivery.objects.filter(pk=claim.pk, mailed_at__isnull=True).update(mailed_at=timezone.now()):
        return False  # mailed already, by this task's first run or a duplicate
    with translation.override(selectors.language_of(action.owner, action.organization)):
        subject, body = _texts(action, kind)
        url = settings.SITE_URL.rstrip("/") + reverse("actions:action_detail", kwargs={"action_item_id": action.pk})
        if action.goal_id:
            body += "\n\n" + _("It counts for the goal “%(goal)s”.") % {"goal": action.goal.display_title}
        body += f"\n\n{url}\n"
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [action.owner.email])
    except Exception:
        # Released, so the retry sends it.
        ReminderDelivery.objects.filter(pk=claim.pk).update(mailed_at=None)
        raise
    return True


def send(action_id: int, kind: str, day: date) -> bool:
    """Remind the owner of one action; False when there was nothing (left) to send."""
    action = ActionItem.objects.select_related("owner", "organization", "goal").filter(pk=action_id).first()
    # Checked again: the action may have been done or moved since the beat listed it.
    if action is None or kind_for(action, day) != kind:
        return False
    claim, created = _claim(action, kind, day)
    if claim is None:
        return False
    mailed = _mail_once(claim, action, kind)
    return created or mailed
