"""VoltRide's inbox as a team that has worked in it for a year: frontline teams with their
touchpoints, SLA policies, routing rules, canned replies; every survey comment as an item, routed
by the rules; e-mails, reviews, chats and social posts; older items answered and resolved, the
recent ones still open — some of them about to breach.

The history is simulated once, when the inbox has no SLA policy yet; loading the demo again
changes nothing."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cxplatform import wording
from cxplatform.textinsight.tokens import search_text
from surveys.models import SCALES, Response

from . import activity, loop, routing, sla
from . import wordings as w
from .models import (
    CannedReply,
    CloseLoopRule,
    FeedbackItem,
    ItemEvent,
    Message,
    RootCause,
    RoutingRule,
    SlaPolicy,
    Tag,
    Team,
)
from .services import Voice, ensure_default_tags, ingest, reread_items

TEAMS = [
    ("Delivery team", "agent", ["agent"], ["Home delivery", "Online checkout"]),
    ("Support team", "agent2", ["agent2"], ["Support call", "Service repair", "App onboarding"]),
]

Priority = FeedbackItem.Priority
# priority, first response (h), resolution (h), business hours
SLA_POLICIES = [(Priority.URGENT, 1, 8, False), (Priority.HIGH, 4, 24, True), (Priority.NORMAL, 8, 40, True),
                (Priority.LOW, 24, 80, True)]

# name, conditions, actions; the tag names are the seeded ones in the organization's language (lv).
RULES = [
    ("Detractors call for a call-back", {"source": "survey", "rating_max": 4},
     {"set_priority": Priority.HIGH, "tags": ["sūdzība"]}),
    ("Delivery and courier → Delivery team",
     {"keywords": "delivery, courier, доставка, курьер, piegāde, kurjers"},
     {"team": "Delivery team", "assign": RoutingRule.Assign.ROUND_ROBIN}),
    ("App, repair, support → Support team",
     {"keywords": "app, repair, support, приложение, ремонт, поддержка, remonts, lietotne"},
     {"team": "Support team", "assign": RoutingRule.Assign.LEAST_OPEN}),
    ("Praise", {"sentiment": 1, "rating_min": 9}, {"set_priority": Priority.LOW, "tags": ["uzslava"]}),
]

CANNED = [
    ("Late delivery: apology", "en", "Dear {customer},\n\nI am sorry your scooter came late. I have checked your "
     "order and asked the courier service to explain the delay. As an apology, your next service visit is on us.\n\n"
     "{agent}, VoltRide"),
    ("Опоздание доставки: извинение", "ru", "Здравствуйте, {customer}!\n\nПриносим извинения за опоздание доставки. "
     "Мы разобрались с курьерской службой; следующий сервисный визит — за наш счёт.\n\n{agent}, VoltRide"),
    ("Piegādes kavēšanās: atvainošanās", "lv", "Labdien, {customer}!\n\nAtvainojamies par piegādes kavēšanos. "
     "Nākamā servisa vizīte būs uz mūsu rēķina.\n\n{agent}, VoltRide"),
    ("Ask for the order number", "", "Hello {customer},\n\nthank you for writing to us. Could you send me your order "
     "number, so I can look into it right away?\n\n{agent}"),
]

# Voices that came in other ways than surveys: source, text, language, touchpoint, days ago.
OTHER_VOICES = [
    ("email", "My scooter stopped charging after the last firmware update. Order VR-55812.", "en", "App onboarding", 1),
    ("email", "Самокат не заряжается после обновления прошивки, что делать?", "ru", "App onboarding", 0),
    ("review", "Great scooter, but the delivery took nine days instead of three.", "en", "Home delivery", 2),
    ("social", "@VoltRide kurjers atstāja skrejriteni pie durvīm lietū. Paldies...", "lv", "Home delivery", 0),
    ("chat", "Здравствуйте, можно ли перенести доставку на субботу?", "ru", "Online checkout", 0),
    ("call", "Customer called: repair pick-up missed twice, very upset, wants a manager.", "en", "Service repair", 0),
    ("review", "Lieliska apkalpošana salonā, testa brauciens bija super!", "lv", "Test ride", 5),
    ("email", "I would like to order 12 VR Cargo scooters for our delivery company. Who do I talk to?", "en",
     "Product page", 3),
]


def load(demo):
    org = demo.organization
    for name, lead, members, touchpoints in TEAMS:
        team, _ = Team.objects.get_or_create(organization=org, name=name, defaults={"lead": demo.users[lead]})
        team.members.add(*(demo.users[u] for u in members))
        team.touchpoints.add(*(demo.touchpoints[t] for t in touchpoints if t in demo.touchpoints))
    _survey_comments(org)
    _read_texts(org)
    if not SlaPolicy.objects.filter(organization=org).exists():
        _setup(org)
        _other_voices(org, demo)
        _read_texts(org)  # before the rules run on them: some match on sentiment
        _work_history(org, demo)
        _closed_loop(org, demo)


def _survey_comments(org):
    # The demo's answers are bulk-loaded without events: make their items the same way at once.
    FeedbackItem.objects.bulk_create([
        FeedbackItem(organization=org, source=FeedbackItem.Source.SURVEY, source_id=f"response:{r.pk}",
                     response_id=r.pk, text=r.comment, search_words=search_text(r.comment), rating=r.score,
                     language=r.language, sentiment=r.sentiment,
                     channel_id=r.channel_id, touchpoint_id=r.touchpoint_id, customer_id=r.customer_id,
                     received_at=r.submitted_at or r.started_at)
        for r in Response.objects.filter(organization=org).exclude(comment="")
    ], batch_size=1000, ignore_conflicts=True)
    ensure_default_tags(org)


def _read_texts(org):
    """Sentiment and themes of the items not read yet (the bulk-loaded ones have no worker)."""
    reread_items(FeedbackItem.objects.filter(organization=org, text_read=False))


def _setup(org):
    for priority, first, resolution, business in SLA_POLICIES:
        SlaPolicy.objects.create(organization=org, priority=priority, first_response_hours=first,
                                 resolution_hours=resolution, business_hours=business)
    tags = {t.name: t for t in Tag.objects.filter(organization=org)}
    teams = {t.name: t for t in Team.objects.filter(organization=org)}
    for position, (name, conditions, actions) in enumerate(RULES):
        rule = RoutingRule.objects.create(
            organization=org, name=name, position=position, **conditions,
            set_priority=actions.get("set_priority"), team=teams.get(actions.get("team")),
            assign=actions.get("assign", ""))
        rule.add_tags.set([tags[t] for t in actions.get("tags", []) if t in tags])
    for title, language, text in CANNED:
        CannedReply.objects.create(organization=org, title=title, language=language, text=text)


def _other_voices(org, demo):
    rng = random.Random(f"{org.slug}:inbox-voices")  # noqa: S311 — demo data  # nosec B311
    now = timezone.now()
    for n, (source, text, language, touchpoint, days_ago) in enumerate(OTHER_VOICES):
        customer = rng.choice([c for c in demo.customers if c.language == language] or demo.customers)
        ingest(org, Voice(source=source, source_id=f"demo-{source}-{n}", text=text, language=language,
                          touchpoint=demo.touchpoints.get(touchpoint), customer=customer,
                          received_at=now - timedelta(days=days_ago, hours=rng.randint(1, 9))))


ROUTED_DAYS = 21  # the rules run on the last three weeks; older items were routed by hand


@transaction.atomic
def _work_history(org, demo):
    """Route the recent items by the rules, then play a year of agents' work: older items answered
    and resolved (most with one reply, some needing two), recent ones open, a few waiting."""
    rng = random.Random(f"{org.slug}:inbox-history")  # noqa: S311 — demo data  # nosec B311
    now = timezone.now()
    items = FeedbackItem.objects.filter(organization=org)
    for pk in items.filter(received_at__gte=now - timedelta(days=ROUTED_DAYS)).values_list("pk", flat=True):
        routing.route(pk)
    policies = {p.priority: p for p in SlaPolicy.objects.filter(organization=org)}
    teams = {tp: team for team in Team.objects.filter(organization=org).prefetch_related("touchpoints", "members")
             for tp in team.touchpoints.all()}
    agents = [demo.users["agent"], demo.users["agent2"]]
    changed, messages, events = [], [], []
    for item in items.select_related("customer", "touchpoint").order_by("received_at", "id"):
        age = now - item.received_at
        team = teams.get(item.touchpoint)
        item.team = item.team or team
        item.assignee = item.assignee or (rng.choice(list(team.members.all())) if team else rng.choice(agents))
        item.first_response_due, item.resolution_due = sla.due_times(item, policies.get(item.priority))
        if age > timedelta(days=10) or (age > timedelta(days=3) and rng.random() < 0.7):
            item.first_responded_at = item.received_at + timedelta(hours=rng.choice([1, 2, 3, 5, 8, 20, 30]))
            item.resolved_at = item.first_responded_at + timedelta(hours=rng.choice([1, 4, 12, 24, 48, 90]))
            item.status = FeedbackItem.Status.CLOSED if age > timedelta(days=40) else FeedbackItem.Status.RESOLVED
            replies = 1 if rng.random() < 0.72 else 2
            if item.customer and item.customer.email:
                for r in range(replies):
                    sent = item.first_responded_at + timedelta(hours=r * 6)
                    messages.append(Message(organization=org, item=item, direction=Message.Direction.OUT,
                                            author=item.assignee, text="…", to_address=item.customer.email,
                                            status=Message.Status.SENT, sent_at=sent))
            events.append(activity.entry(item, "triaged", wording.message(w.TRIAGED, changes=activity.change_messages(
                {"status": FeedbackItem.Status.NEW}, {"status": item.status})), actor=item.assignee,
                details={"status": item.status}))
        elif age > timedelta(days=1) and rng.random() < 0.5:
            item.status = rng.choice([FeedbackItem.Status.OPEN, FeedbackItem.Status.WAITING])
            item.first_responded_at = item.received_at + timedelta(hours=rng.randint(1, 6))
        elif rng.random() < 0.5:
            item.assignee = None  # new, still waiting for someone to take it
        if item.status not in sla.DONE:
            policy = policies.get(item.priority)
            item.sla_state = sla.state_of(item, now, timedelta(minutes=policy.warn_before_minutes) if policy else None)
        changed.append(item)
    FeedbackItem.objects.bulk_update(changed, ["team", "assignee", "status", "first_responded_at", "resolved_at",
                                               "first_response_due", "resolution_due", "sla_state"], batch_size=500)
    created = Message.objects.bulk_create(messages, batch_size=1000)
    for message in created:  # a reply is dated when it was sent, not when the demo was loaded
        message.created_at = message.sent_at
    Message.objects.bulk_update(created, ["created_at"], batch_size=1000)
    ItemEvent.objects.bulk_create(events, batch_size=1000)


LOOP_DAYS = 120  # unhappy answers of the last four months were called back
SCRIPT = ("Introduce yourself and thank them for answering. Say what they told us in their words, apologise, "
          "ask what happened and what would put it right. Agree on one concrete step and when they will hear "
          "from us. Do not argue about the score.")
CAUSE_WORDS = [  # the words of a comment → the leaf of the demo's root-cause tree it points to
    (("courier", "delivery", "курьер", "доставк", "kurjer", "piegād"), "Late"),
    (("battery", "батаре", "akumulator"), "Battery range"),
    (("app", "приложени", "lietotn", "pair"), "Pairing"),
    (("repair", "ремонт", "remont"), "Repair took too long"),
    (("support", "hold", "поддержк"), "Slow answer"),
    (("scratch", "царапин"), "Damaged"),
]


def _closed_loop(org, demo):
    """Close-loop rules as VoltRide runs them, and four months of call-backs: the unhappy answers
    with a comment became cases; the resolved ones have their root cause, and most customers
    were asked again."""
    from django.utils import translation

    rng = random.Random(f"{org.slug}:closed-loop")  # noqa: S311 — demo data  # nosec B311
    loop.ensure_root_causes(org)  # in the organization's language
    leaves = {leaf for _words, leaf in CAUSE_WORDS} | {"Quality"}
    with translation.override(org.default_language or "en"):
        named = {translation.gettext(leaf): leaf for leaf in leaves}
    causes = {named[c.name]: c for c in RootCause.objects.filter(organization=org, parent__isnull=False)
              if c.name in named}
    tags = {t.name: t for t in Tag.objects.filter(organization=org)}
    support = Team.objects.filter(organization=org, name="Support team").first()
    unhappy = CloseLoopRule.objects.create(
        organization=org, name="Unhappy answer → call back within 48 hours", band=CloseLoopRule.Band.UNHAPPY,
        team=support, assign=RoutingRule.Assign.ROUND_ROBIN, contact_within_hours=48, close_within_hours=120,
        script_hint=SCRIPT, follow_up=True)
    unhappy.tags.set([t for name, t in tags.items() if name == "sūdzība"])
    CloseLoopRule.objects.create(organization=org, name="Promoters: thank and ask for a review", position=1,
                                 band=CloseLoopRule.Band.PROMOTER, action=CloseLoopRule.Action.THANK,
                                 review_url="https://www.trustpilot.com/review/voltride.example")
    now = timezone.now()
    unhappy_items = FeedbackItem.objects.filter(
        organization=org, source=FeedbackItem.Source.SURVEY, response__band__in=sorted(loop.UNHAPPY_BANDS),
        received_at__gte=now - timedelta(days=LOOP_DAYS))
    # Nobody to call back is no call-back case (docs/adr/0011): those stay items, marked unreachable.
    reachable = Q(customer__isnull=False) & (~Q(customer__email="") | ~Q(customer__phone=""))
    unreachable = list(unhappy_items.exclude(reachable).values_list("pk", flat=True))
    unhappy_items.filter(pk__in=unreachable).update(loop_state=FeedbackItem.LoopState.UNREACHABLE, loop_rule=unhappy)
    ItemEvent.objects.bulk_create([ItemEvent(item_id=pk, action="loop_unreachable", details={"rule": unhappy.name},
                                             message=wording.message(w.LOOP_UNREACHABLE))
                                   for pk in unreachable], batch_size=1000)
    cases = list(unhappy_items.filter(reachable).select_related("response__survey"))
    for item in cases:
        item.kind, item.loop_rule, item.priority = FeedbackItem.Kind.CASE, unhappy, FeedbackItem.Priority.HIGH
        item.team = support or item.team
        item.first_response_due, item.resolution_due = sla.due_times(item, None)
        if item.status in sla.DONE:
            # Most were reached within two days; some waited longer.
            item.first_responded_at = item.received_at + timedelta(hours=rng.choice([3, 6, 20, 30, 40, 60]))
            item.resolved_at = max(item.resolved_at or now, item.first_responded_at + timedelta(hours=4))
            if rng.random() < 0.15:  # a few took longer than the five days the rule allows
                item.resolved_at = item.received_at + timedelta(days=rng.randint(6, 9))
            text = item.text.lower()
            leaf = next((cause for words, cause in CAUSE_WORDS if any(w in text for w in words)), "Quality")
            item.root_cause = causes.get(leaf)
            item.resolution_note = "Called the customer, apologised and agreed on a fix."
            if item.customer_id and item.response.score is not None and rng.random() < 0.6:
                item.follow_up_sent_at = item.resolved_at + timedelta(hours=2)
                low, high = SCALES.get(item.response.survey.survey_type, (1, 5))
                item.follow_up_score = max(low, min(high, item.response.score + rng.choice([-1, 0, 1, 2, 3, 4])))
                item.recovered = item.follow_up_score > item.response.score
        else:
            item.sla_state = sla.state_of(item, now, timedelta(hours=4))
    # Before the call-backs began, agents recorded why on most unhappy comments they resolved.
    earlier = list(FeedbackItem.objects.filter(
        organization=org, kind=FeedbackItem.Kind.VOICE, sentiment=-1, status__in=sla.DONE, root_cause__isnull=True,
        received_at__lt=now - timedelta(days=LOOP_DAYS)))
    for item in earlier:
        if rng.random() < 0.8:
            text = item.text.lower()
            leaf = next((cause for words, cause in CAUSE_WORDS if any(w in text for w in words)), "Quality")
            item.root_cause = causes.get(leaf)
    FeedbackItem.objects.bulk_update(earlier, ["root_cause"], batch_size=500)
    FeedbackItem.objects.bulk_update(cases, [
        "kind", "loop_rule", "priority", "team", "first_response_due", "resolution_due", "first_responded_at",
        "resolved_at", "root_cause", "resolution_note", "follow_up_sent_at", "follow_up_score", "recovered",
        "sla_state"], batch_size=500)
    opened = wording.message(w.LOOP_OPENED, rule=unhappy.name)
    ItemEvent.objects.bulk_create([activity.entry(item, "loop_opened", opened, details={"rule": unhappy.name})
                                   for item in cases], batch_size=1000)
