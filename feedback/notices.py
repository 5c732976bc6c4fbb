"""What the inbox tells its people, each as they chose per kind of notification (bell, e-mail,
both or nothing; cxplatform.services.notify): an item or a case given to them, by a colleague or
by a rule, and an item of theirs about to breach its SLA or breaching it."""

from django.urls import reverse

from cxplatform import services as platform
from cxplatform import wording
from cxplatform.models import NotificationKind

from . import activity
from . import wordings as w
from .models import FeedbackItem


def _link(item: FeedbackItem) -> str:
    return reverse("feedback:item_detail", kwargs={"feedback_item_id": item.pk})


def item_given(item: FeedbackItem, *, to, by=None, rule=None) -> None:
    """Tell `to` that `item` is theirs now: given by a colleague (`by`; never told of their own
    doing) or by a routing or loop rule (once, whatever re-runs)."""
    if to is None or (by is not None and to.pk == by.pk):
        return
    if rule is not None:
        # Routing runs once per item; a case withdrawn and opened again is a new version of it.
        case = item.kind == FeedbackItem.Kind.CASE
        message = wording.message(w.CASE_GIVEN if case else w.ITEM_ROUTED_TO_YOU, item=item.pk, rule=rule.name)
        key = f"case:{item.pk}:{item.version}" if case else f"routed:{item.pk}"
    else:
        message, key = wording.message(w.ITEM_GIVEN, who=activity.name_of(by), item=item.pk), ""
    platform.notify(user=to, organization=item.organization, kind=NotificationKind.ITEM_ASSIGNED, message=message,
                    link=_link(item), key=key)


def items_given(organization, items: list[FeedbackItem], *, to, by) -> None:
    """One notice for a bulk assignment, however many items (with a link to the person's own open
    items), never one per item: an agent given forty items at once reads one line, and one e-mail."""
    if not items or to is None or to.pk == by.pk:
        return
    if len(items) == 1:
        item_given(items[0], to=to, by=by)
        return
    platform.notify(user=to, organization=organization, kind=NotificationKind.ITEM_ASSIGNED,
                    message=wording.message(w.ITEMS_GIVEN, who=activity.name_of(by),
                                            items=", ".join(f"#{item.pk}" for item in items[:20])
                                            + (" …" if len(items) > 20 else "")),
                    link=reverse("feedback:index") + "?view=mine")


def sla_notice(item: FeedbackItem, person, *, breached: bool, due) -> bool:
    """The bell for one person of an item near or past its SLA; True when they want it by e-mail
    too (the SLA check writes that e-mail itself, with the item's text)."""
    words = w.SLA_BREACHED_NOTICE if breached else w.SLA_AT_RISK_NOTICE
    told = platform.notify(
        user=person, organization=item.organization, kind=NotificationKind.SLA,
        message=wording.message(words, item=item.pk, due=due.isoformat()), link=_link(item),
        key=f"sla:{item.pk}:{'breached' if breached else 'at_risk'}:{due.isoformat()}", mailed_by_caller=True)
    return told is not None and platform.wants_mail(user=person, kind=NotificationKind.SLA)
