"""VoltRide's outer loop: two goals — NPS at Home delivery up, first response time down — with
actions in every state (one overdue, one due in two days), and, where the inbox has no root
causes yet, a small tree of them recorded on the unhappy items, for the root-cause analysis.

Set up once, when the organization has no goal yet; loading the demo again changes nothing."""

import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone, translation

from feedback.models import FeedbackItem, RootCause, Tag
from journeys.models import PainPoint

from . import services
from .models import ActionItem, Goal, HistoryEntry

Status = ActionItem.Status

# parent → children; the touchpoint whose unhappy items they explain, and how often each.
ROOT_CAUSES = {
    "Delivery": [("Courier late", "Home delivery", 0.7), ("Damaged in transit", "Home delivery", 0.3)],
    "App": [("Pairing fails", "App onboarding", 1.0)],
    "Support": [("Long wait for an answer", "Support call", 1.0)],
    "Repair": [("Repair takes too long", "Service repair", 1.0)],
}
# The same tree in each of the organization's languages (a manager names causes in all of them).
CAUSE_NAMES = {
    "Delivery": {"ru": "Доставка", "lv": "Piegāde"},
    "Courier late": {"ru": "Курьер опоздал", "lv": "Kurjers kavējās"},
    "Damaged in transit": {"ru": "Повреждено при доставке", "lv": "Bojāts pārvadājot"},
    "App": {"ru": "Приложение", "lv": "Lietotne"},
    "Pairing fails": {"ru": "Не удаётся подключить", "lv": "Neizdodas savienot pārī"},
    "Support": {"ru": "Поддержка", "lv": "Atbalsts"},
    "Long wait for an answer": {"ru": "Долгое ожидание ответа", "lv": "Ilgi jāgaida atbilde"},
    "Repair": {"ru": "Ремонт", "lv": "Remonts"},
    "Repair takes too long": {"ru": "Ремонт слишком долгий", "lv": "Remonts ilgst pārāk ilgi"},
}


def load(demo):
    org = demo.organization
    _root_causes(org)
    if Goal.objects.filter(organization=org).exists():
        return
    today = timezone.now().date()
    users = demo.users
    causes = {c.name: c for c in RootCause.objects.filter(organization=org)}
    with translation.override(org.default_language or "en"):
        complaint = Tag.objects.filter(organization=org, name=str(translation.gettext("complaint"))).first()
    delivery_pain = PainPoint.objects.filter(organization=org, touchpoint__name="Home delivery").first()
    pairing_pain = PainPoint.objects.filter(organization=org, touchpoint__name="App onboarding").first()
    delivery = demo.touchpoints["Home delivery"]

    nps_start = today - timedelta(days=56)
    nps = _goal(org, users["manager"], "nps", nps_start, today + timedelta(days=120), touchpoints=[delivery],
                target=lambda b: min(b + 20, Decimal(100)).quantize(Decimal(1)),
                description="Customers who get their scooter delivered should recommend us as much as those "
                            "who buy in the showroom. The delivery promise is the biggest detractor theme.")
    frt_start = today - timedelta(days=28)
    frt = _goal(org, users["agent2"], "first_response_time", frt_start, today + timedelta(days=90),
                target=lambda b: max((b / 2).quantize(Decimal("0.1")), Decimal("0.5")),
                description="Half the wait for the first answer: customers who write to us hear back the same "
                            "morning.")
    links = {"pain_points": [p for p in [delivery_pain] if p], "tags": [t for t in [complaint] if t]}
    # The inbox's demo tree names it "Late" (under Delivery, in the organization's language); this
    # app's own tree, used when the inbox has none, "Courier late".
    with translation.override(org.default_language or "en"):
        inbox_late = causes.get(translation.gettext("Late"))
    late = [c for c in (causes.get("Courier late") or inbox_late,) if c]
    plan = [
        # goal, owner, title, description, due (days from today), status, links, days ago it was done
        (nps, "manager", "SMS with a two-hour delivery window from the courier",
         "The courier company sends the window the evening before and a text 30 minutes ahead.",
         -30, Status.DONE, {**links, "root_causes": late}, 33),
        (nps, "agent", "Couriers unpack the scooter and explain it at the door",
         "A one-page checklist and a ten-minute training for every courier.", 2, Status.IN_PROGRESS, links, None),
        (nps, "manager", "Weekly review of late deliveries with the courier company",
         "Every Monday: last week's late deliveries, their reasons, and what the courier changes.",
         -4, Status.PLANNED, {**links, "root_causes": late}, None),
        (nps, "manager", "Switch the courier service in Jūrmala", "Dropped: the current courier fixed its routes.",
         -10, Status.DROPPED, links, None),
        (frt, "agent2", "Canned replies for the ten most common questions",
         "Written with the support team, in Latvian, Russian and English.", -14, Status.DONE, {}, 16),
        (frt, "agent2", "The morning shift starts at 8:00 instead of 9:00",
         "Most e-mails arrive overnight; the first hour answers them.", 10, Status.IN_PROGRESS, {}, None),
        (None, "manager", "The courier pairs the scooter with the customer's phone at handover",
         "From the pairing pain point: nobody should leave the door with a scooter the app cannot see.",
         20, Status.PLANNED, {"pain_points": [p for p in [pairing_pain] if p]}, None),
    ]
    for goal, owner, title, description, due, status, linked, done_days_ago in plan:
        action = services.create_action(org, users["manager"], title=title, description=description,
                                        owner=users[owner], due_date=today + timedelta(days=due), goal=goal,
                                        **linked)
        if status != Status.PLANNED:
            services.set_status(action, users[owner], Status.IN_PROGRESS)
        if status in (Status.DONE, Status.DROPPED):
            services.set_status(action, users[owner], status)
        if done_days_ago:
            ActionItem.objects.filter(pk=action.pk).update(done_at=_moment(today - timedelta(days=done_days_ago)))
    overdue = ActionItem.objects.get(organization=org, title__startswith="Weekly review")
    services.add_comment(overdue, users["agent"], "The courier company asked to start after the holidays.")
    _backdate_history(org, today)


def _goal(org, owner, kpi, start, deadline, target, description, touchpoints=()):
    """A goal as it was set on its start day: the baseline measured from the 30 days before."""
    baseline = services.measured_baseline(org, kpi, start, touchpoints=touchpoints)
    if baseline.value is None:
        return None
    measured = Decimal(str(round(baseline.value, 2)))
    return services.create_goal(org, owner, kpi=kpi, target=target(measured), deadline=deadline, owner=owner,
                                start_date=start, touchpoints=touchpoints, description=description, today=start)


def _moment(day, hour=9):
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _backdate_history(org, today):
    """Date the history when it would have happened — goals on their start day, actions soon
    after, a finished action on the day it was done — instead of all today."""
    entries = list(HistoryEntry.objects.filter(organization=org).select_related("action_item", "goal").order_by("id"))
    goals = {g.pk: g for g in Goal.objects.filter(organization=org)}
    for n, entry in enumerate(entries):
        action = entry.action_item
        goal = entry.goal or goals.get(action.goal_id if action else None)
        base = goal.start_date if goal else today - timedelta(days=20)
        status = (entry.changes.get("status") or [None, None])[1]
        if entry.event == HistoryEntry.Event.COMMENTED:
            continue  # said today
        if entry.event == HistoryEntry.Event.GOAL_CREATED:
            when = _moment(base)
        elif status in (Status.DONE, Status.DROPPED):
            when = action.done_at or _moment(today - timedelta(days=10))
        elif status == Status.IN_PROGRESS:
            when = _moment(base + timedelta(days=3), 14)
        else:
            when = _moment(base + timedelta(days=1), 10 + n % 6)
        entry.created_at = when
    HistoryEntry.objects.bulk_update(entries, ["created_at"])


def _root_causes(org):
    """A small tree, recorded on the unhappy survey comments of a year, unless the inbox has its own."""
    if RootCause.objects.filter(organization=org).exists():
        return
    rng = random.Random(f"{org.slug}:root-causes")  # noqa: S311 — demo data  # nosec B311
    by_touchpoint = {}
    for parent_name, children in ROOT_CAUSES.items():
        parent = RootCause.objects.create(organization=org, name=parent_name,
                                          names={"en": parent_name, **CAUSE_NAMES[parent_name]})
        for name, touchpoint, weight in children:
            cause = RootCause.objects.create(organization=org, name=name, parent=parent,
                                             names={"en": name, **CAUSE_NAMES[name]})
            by_touchpoint.setdefault(touchpoint, []).append((cause, weight))
    unhappy = (FeedbackItem.objects.filter(organization=org, root_cause__isnull=True, sentiment=-1,
                                           touchpoint__name__in=list(by_touchpoint))
               .select_related("touchpoint").order_by("id"))
    changed = []
    for item in unhappy:
        options = by_touchpoint[item.touchpoint.name]
        # Not every unhappy voice had its cause written down.
        if rng.random() < 0.8:
            item.root_cause = rng.choices([c for c, _w in options], weights=[w for _c, w in options])[0]
            changed.append(item)
    FeedbackItem.objects.bulk_update(changed, ["root_cause"], batch_size=500)
