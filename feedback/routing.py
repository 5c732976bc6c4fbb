"""Routing: the organization's rules, in order, run once on every new item — by a worker, after
the item is saved (the `feedback.item_received` event). Each applied rule is logged on the item.

Keywords match word forms: the rule's words and the item's text are compared in the form the
inbox's search uses (textinsight.tokens.search_form: Russian lemmas through pymorphy3, so
"задержка" finds "задержкой"; Latin-script words folded and stemmed, so "refund" finds "refunds").
"""

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from cxplatform import wording
from cxplatform.textinsight.tokens import search_words

from . import activity, notices, sla
from . import wordings as w
from .models import FeedbackItem, RoutingRule, Team


def keyword_match(keywords: str, text: str) -> bool:
    """Whether `text` has every word of one of the comma-separated `keywords`, in any form."""
    phrases = [forms for forms in (search_words(w) for w in keywords.split(",")) if forms]
    if not phrases:
        return not keywords.strip(", ")
    found = set(search_words(text))
    return any(all(form in found for form in forms) for forms in phrases)


def matches(rule: RoutingRule, item: FeedbackItem) -> bool:
    if rule.source and item.source != rule.source:
        return False
    if rule.channel_id and item.channel_id != rule.channel_id:
        return False
    if rule.touchpoint_id and item.touchpoint_id != rule.touchpoint_id:
        return False
    if rule.rating_min is not None and (item.rating is None or item.rating < rule.rating_min):
        return False
    if rule.rating_max is not None and (item.rating is None or item.rating > rule.rating_max):
        return False
    if rule.sentiment is not None and item.sentiment != rule.sentiment:
        return False
    if rule.segment:
        attribute = item.organization.segment_attribute or "segment"
        value = (item.customer.attributes or {}).get(attribute) if item.customer else None
        if str(value or "") != rule.segment:
            return False
    return keyword_match(rule.keywords, item.text)


def pick_agent(team: Team, how: str):
    """The team member who gets the next item: in turn (round robin, fair whatever the order of
    arrival) or the one with the fewest open items (ties to the longest-waiting member)."""
    team = Team.objects.select_for_update(no_key=True).get(pk=team.pk)  # one assignment at a time per team
    # A deactivated member of the team gets nothing new.
    active = team.members.filter(memberships__organization=team.organization_id, memberships__is_active=True)
    members = list(active.order_by("id"))
    if not members:
        return None
    if how == RoutingRule.Assign.ROUND_ROBIN:
        ids = [m.pk for m in members]
        after = ids.index(team.last_assignee_id) + 1 if team.last_assignee_id in ids else 0
        chosen = members[after % len(members)]
    else:
        load = dict(active.annotate(n=Count("assigned_feedback", filter=Q(
            assigned_feedback__status__in=sla.OPEN, assigned_feedback__organization=team.organization_id)))
            .values_list("pk", "n"))
        chosen = min(members, key=lambda m: (load.get(m.pk, 0), m.pk))
    Team.objects.filter(pk=team.pk).update(last_assignee=chosen)
    return chosen


def route(item_id: int) -> list[str]:
    """Run the rules on a new item once (a redelivered event finds it claimed). Returns the names
    of the rules applied."""
    with transaction.atomic(savepoint=False):  # the delivery's transaction is the one that counts
        claimed = FeedbackItem.objects.filter(pk=item_id, routed_at__isnull=True).update(routed_at=timezone.now())
        if not claimed:
            return []
        item = FeedbackItem.objects.select_related("organization", "customer").get(pk=item_id)
        applied, given_by = [], None
        rules = RoutingRule.objects.filter(organization=item.organization, active=True).prefetch_related("add_tags")
        for rule in rules:
            if not matches(rule, item):
                continue
            changes, said = {}, []
            tags = list(rule.add_tags.all())
            if rule.team_id:
                item.team_id = rule.team_id
                changes["team"] = rule.team_id
                said.append(wording.message(w.ROUTED_TO_TEAM, team=activity.name_of(rule.team)))
                if rule.assign:
                    agent = pick_agent(rule.team, rule.assign)
                    if agent is not None:
                        item.assignee = agent
                        changes["assignee"] = agent.pk
                        said.append(wording.message(w.ROUTED_TO_AGENT, assignee=activity.name_of(agent)))
                        given_by = rule
            if rule.set_priority is not None:
                item.priority = rule.set_priority
                changes["priority"] = rule.set_priority
                said.append(wording.message(w.ROUTED_PRIORITY, priority=rule.set_priority))
            if tags:
                item.tags.add(*tags)
                changes["tags"] = sorted(t.name for t in tags)
                said.append(wording.message(w.ROUTED_TAGS, tags=changes["tags"]))
            item.save(update_fields=["priority", "team", "assignee", "updated_at"])
            activity.log(item, "routed", wording.message(w.ROUTED, rule=rule.name,
                                                         changes=said or [wording.message(w.ROUTED_NOTHING)]),
                         details={"rule": rule.name, **changes})
            applied.append(rule.name)
            if rule.stop:
                break
        if given_by is not None:  # told once, the agent the last assigning rule chose
            notices.item_given(item, to=item.assignee, rule=given_by)
        if applied:
            # An agent who opened the item before the rules ran must see that it changed.
            FeedbackItem.objects.filter(pk=item.pk).update(version=F("version") + 1)
            sla.start_clock(item)  # the rules may have changed the priority, and with it the targets
        return applied
