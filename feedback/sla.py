"""The SLA clock: due times from the policy of an item's priority, and the beat task's check that
flags items about to breach and breached, tells the assignee and escalates to the team lead —
once per state, however often the check runs."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxplatform import wording
from cxplatform.selectors import language_of

from . import activity, notices
from . import wordings as w
from .models import FeedbackItem, SlaPolicy

# The two groups of statuses every part of the inbox speaks of: still to work on, and done.
OPEN = [FeedbackItem.Status.NEW, FeedbackItem.Status.OPEN, FeedbackItem.Status.WAITING]
DONE = [FeedbackItem.Status.RESOLVED, FeedbackItem.Status.CLOSED]


def add_business_hours(start: datetime, hours: int, policy: SlaPolicy) -> datetime:
    """`start` plus `hours` of working time: Monday–Friday between the policy's day start and end,
    in its time zone (time outside them does not count)."""
    zone = ZoneInfo(policy.time_zone)
    moment = start.astimezone(zone)
    left = timedelta(hours=hours)
    while True:
        day_open = moment.replace(hour=policy.day_start.hour, minute=policy.day_start.minute, second=0, microsecond=0)
        day_close = moment.replace(hour=policy.day_end.hour, minute=policy.day_end.minute, second=0, microsecond=0)
        if moment.weekday() >= 5 or moment >= day_close:
            moment = (moment + timedelta(days=1)).replace(hour=policy.day_start.hour,
                                                          minute=policy.day_start.minute, second=0, microsecond=0)
            continue
        moment = max(moment, day_open)
        if moment + left <= day_close:
            return (moment + left).astimezone(ZoneInfo("UTC"))
        left -= day_close - moment
        moment = day_close


def due_times(item: FeedbackItem, policy: SlaPolicy | None) -> tuple[datetime | None, datetime | None]:
    """The item's first-response and resolution targets. A closed-loop case keeps its rule's
    inner-loop clock ("call back within 48 hours"), in calendar hours: customers wait at weekends too."""
    start = item.received_at
    if _is_loop_case(item):
        return case_due_times(start, item.loop_rule)
    if policy is None:
        return None, None
    if policy.business_hours:
        return (add_business_hours(start, policy.first_response_hours, policy),
                add_business_hours(start, policy.resolution_hours, policy))
    return start + timedelta(hours=policy.first_response_hours), start + timedelta(hours=policy.resolution_hours)


def _is_loop_case(item: FeedbackItem) -> bool:
    return item.kind == FeedbackItem.Kind.CASE and item.loop_rule_id is not None


def case_due_times(received_at: datetime, rule) -> tuple[datetime, datetime]:
    """A closed-loop case's targets: its rule's contact and close times after the answer."""
    return (received_at + timedelta(hours=rule.contact_within_hours),
            received_at + timedelta(hours=rule.close_within_hours))


def start_clock(item: FeedbackItem) -> None:
    """Set the item's due times from the policy of its priority (on arrival and when the
    priority changes); a closed-loop case's come from its rule, no policy read."""
    policy = None if _is_loop_case(item) else (
        SlaPolicy.objects.filter(organization_id=item.organization_id, priority=item.priority).first())
    due = due_times(item, policy)
    if due == (item.first_response_due, item.resolution_due):
        return  # e.g. a new item of a priority without a policy: no clock, nothing to write
    item.first_response_due, item.resolution_due = due
    FeedbackItem.objects.filter(pk=item.pk).update(first_response_due=item.first_response_due,
                                                   resolution_due=item.resolution_due)


def restart_resolution(item: FeedbackItem, since: datetime) -> None:
    """A reopened item gets a new resolution target, counted from the moment it reopened: its
    rule's close time for a closed-loop case (in calendar hours, as its first clock), else its
    priority's policy."""
    if _is_loop_case(item):
        due = case_due_times(since, item.loop_rule)[1]
    else:
        policy = SlaPolicy.objects.filter(organization_id=item.organization_id, priority=item.priority).first()
        if policy is None:
            return
        hours = policy.resolution_hours
        due = add_business_hours(since, hours, policy) if policy.business_hours else since + timedelta(hours=hours)
    FeedbackItem.objects.filter(pk=item.pk).update(resolution_due=due)


def awaits_first_response(item: FeedbackItem) -> bool:
    return item.first_responded_at is None and bool(item.first_response_due)


def next_due(item: FeedbackItem):
    """The due time the item's SLA state is about: its first reply's until it has one, then its
    resolution's."""
    return item.first_response_due if awaits_first_response(item) else item.resolution_due


DEFAULT_WARNING = timedelta(hours=1)


def state_of(item: FeedbackItem, now: datetime, warning: timedelta | None = None) -> str:
    """"breached" past the item's next due time, "at_risk" within `warning` of it, else ""."""
    due = next_due(item)
    if due is None:
        return ""
    if warning is None:
        policy = SlaPolicy.objects.filter(organization_id=item.organization_id, priority=item.priority).first()
        warning = timedelta(minutes=policy.warn_before_minutes) if policy else DEFAULT_WARNING
    return "breached" if now >= due else "at_risk" if now >= due - warning else ""


def check(now: datetime | None = None) -> dict:
    """Flag open items whose next due time is near (at risk) or past (breached), once per state.
    Returns how many items changed state."""
    now = now or timezone.now()
    warn = {p.organization_id * 10 + p.priority: timedelta(minutes=p.warn_before_minutes)
            for p in SlaPolicy.objects.all()}
    changed = {"at_risk": 0, "breached": 0}
    candidates = (FeedbackItem.objects.exclude(status__in=DONE).exclude(sla_state="breached")
                  .filter(Q(first_response_due__isnull=False) | Q(resolution_due__isnull=False))
                  .select_related("assignee", "team__lead", "organization"))
    for item in candidates.iterator(chunk_size=500):
        due = next_due(item)
        state = state_of(item, now, warn.get(item.organization_id * 10 + item.priority, DEFAULT_WARNING))
        if not state or state == item.sla_state:
            continue
        with transaction.atomic():
            # Claim the change, so a second check running at once does not notify again.
            if not FeedbackItem.objects.filter(pk=item.pk, sla_state=item.sla_state).update(sla_state=state):
                continue
            activity.log(item, f"sla_{state}", wording.message(
                w.SLA_BREACHED if state == "breached" else w.SLA_AT_RISK, due=due.isoformat()),
                details={"due": due.isoformat()})
        _notify(item, state, due)
        changed[state] += 1
    return changed


def _notify(item: FeedbackItem, state: str, due: datetime) -> None:
    """Tell the assignee; a breach also goes to the team lead (the escalation). Each is told as they
    chose for SLA notices, and reads the e-mail in their own language (one e-mail per language)."""
    people = [item.assignee] if item.assignee else []
    if state == "breached" and item.team and item.team.lead and item.team.lead not in people:
        people.append(item.team.lead)
    by_language: dict[str, set[str]] = {}
    for person in people:
        # The bell as each chose for SLA notices; the e-mail below only to those who want one.
        if notices.sla_notice(item, person, breached=state == "breached", due=due):
            by_language.setdefault(language_of(person, item.organization), set()).add(person.email)
    for language, addresses in sorted(by_language.items()):
        with translation.override(language):
            subject = (_("Breached: item #%(id)s is past its SLA") if state == "breached"
                       else _("Item #%(id)s is about to breach its SLA")) % {"id": item.pk}
            body = _("Item #%(id)s was due %(due)s.\n\n%(text)s") % {"id": item.pk, "due": due.isoformat(),
                                                                     "text": item.display_text[:500]}
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(addresses), fail_silently=True)
