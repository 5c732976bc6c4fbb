"""Changes to goals and actions: the one place their rules live.

- A goal's baseline is measured from the data (the KPI over the 30 days before today) unless
  someone types one in; its target must be better than the baseline, in the KPI's direction, and
  within the KPI's scale.
- Everything a goal or an action points at — owner, scope, pain points, root causes, tags, the
  inbox item — belongs to the same organization, checked here whatever form or API called.
- Every change writes a `HistoryEntry` naming the actor and what changed from what to what.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform import events, wording
from cxplatform import services as platform
from cxplatform.models import Membership, NotificationKind
from cxplatform.versioning import lock_version
from metrics.selectors import segments as organization_segments

from . import kpis, progress, wordings
from .models import ActionComment, ActionItem, Goal, HistoryEntry

Status = ActionItem.Status
Event = HistoryEntry.Event
GOAL_FIELDS = ("title", "description", "kpi", "baseline", "target", "start_date", "deadline", "owner",
               "segments", "languages")
GOAL_SCOPE = ("surveys", "touchpoints", "channels")
ACTION_FIELDS = ("title", "description", "goal", "owner", "due_date", "status")
ACTION_LINKS = ("pain_points", "root_causes", "tags")
# Public event (outgoing webhooks subscribe): a goal's fields changed; `changed` names them.
GOAL_UPDATED = events.declare("goal.updated", fields={"goal_id", "changed"})


class ActionsError(ValueError):
    """A change the rules refuse; the message is for the person who asked for it."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# Checks shared by goals and actions


def members(organization):
    """The people of the organization who may own a goal or an action (deactivated ones no more)."""
    return get_user_model().objects.filter(memberships__organization=organization,
                                           memberships__is_active=True).order_by(
        "first_name", "last_name", "username").distinct()


def _check_owner(organization, owner, field="owner"):
    if owner is None:
        raise ActionsError(_("Choose who owns it."), field)
    if not Membership.objects.filter(organization=organization, user=owner, is_active=True).exists():
        raise ActionsError(_("The owner must be a member of this organization."), field)


def _check_same_org(organization, objects, field):
    for obj in objects:
        if obj is not None and obj.organization_id != organization.pk:
            # Said like a missing id: another organization's ids leak nothing.
            raise ActionsError(_("Not found."), field)


def _display(value):
    """A value as the history keeps it: plain text, ids of choices kept as they are."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "get_full_name"):
        return value.get_full_name() or value.get_username()
    if hasattr(value, "pk"):
        return str(value)
    return value


def _log(organization, actor, event, *, goal=None, action_item=None, subject="", subject_message=None,
         changes=None):
    return HistoryEntry.objects.create(
        organization=organization, goal=goal, action_item=action_item,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        event=event, subject=str(subject)[:200], subject_message=subject_message or {}, changes=changes or {})


def _who(actor) -> str:
    """The actor as a notification names them ("" reads as "Someone" in the reader's language)."""
    return _display(actor) if getattr(actor, "is_authenticated", False) else ""


# ---------------------------------------------------------------------------------------------
# Goals


def _decimal(value, field):
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        raise ActionsError(_("Enter a number."), field) from None
    if not number.is_finite():
        raise ActionsError(_("Enter a number."), field)
    return number.quantize(progress.CENT)


def _check_scale(kpi, value, field):
    if (kpi.low is not None and value < kpi.low) or (kpi.high is not None and value > kpi.high):
        if kpi.high is None:
            raise ActionsError(_("%(kpi)s cannot be below %(low)s.") % {"kpi": kpi.label, "low": kpi.low}, field)
        raise ActionsError(_("%(kpi)s runs from %(low)s to %(high)s.") % {
            "kpi": kpi.label, "low": kpi.low, "high": kpi.high}, field)


def _check_segments(organization, values):
    known = set(organization_segments(organization))
    for value in values:
        if value not in known:
            raise ActionsError(_("“%(value)s” is not a segment of this organization's customers.") % {
                "value": value}, "segments")


def scope_of(organization, *, surveys=(), touchpoints=(), channels=(), segments=(), languages=()):
    return progress.GoalScope(organization, tuple(sorted(s.pk for s in surveys)),
                              tuple(sorted(t.pk for t in touchpoints)), tuple(sorted(c.pk for c in channels)),
                              tuple(segments), tuple(languages))


def measured_baseline(organization, kpi: str, today: date | None = None, **scope):
    """The KPI over the last 30 days for the scope: what a new goal starts from."""
    return progress.measure(scope_of(organization, **scope), kpi, today or timezone.now().date())


def default_title(kpi_name, baseline, target, deadline, touchpoints=()) -> dict:
    """"NPS at Home delivery from 12 to 30 by 31 March", as a message: read in the reader's language."""
    kpi = kpis.get(kpi_name)
    values = {"kpi": kpi_name, "baseline": kpi.format(baseline), "target": kpi.format(target),
              "deadline": deadline.isoformat()}
    places = ", ".join(t.name for t in touchpoints)
    if places:
        return wording.message(wordings.GOAL_TITLE_AT, **values, place=places)
    return wording.message(wordings.GOAL_TITLE, **values)


def _titled(organization, title: str, generated: dict) -> tuple[str, dict]:
    """(title, title_message): a typed title as it is; else the generated one, its text kept in the
    organization's language (search, history) and its message for display."""
    if title:
        return title, {}
    return wording.text(generated, language=organization.default_language or settings.LANGUAGE_CODE)[:200], \
        generated


def _clean_goal(organization, data: dict) -> dict:
    """Check and complete a goal's fields (a whole goal: after an edit, the old values fill in)."""
    if data.get("kpi") not in kpis.KPIS:
        raise ActionsError(_("Choose one of the KPIs."), "kpi")
    kpi = kpis.get(data["kpi"])
    start, deadline = data.get("start_date"), data.get("deadline")
    if start is None:
        raise ActionsError(_("Choose the start date."), "start_date")
    if deadline is None:
        raise ActionsError(_("Choose the deadline."), "deadline")
    if deadline <= start:
        raise ActionsError(_("The deadline must be after the start."), "deadline")
    _check_owner(organization, data.get("owner"))
    for name in GOAL_SCOPE:
        _check_same_org(organization, data.get(name) or (), name)
    _check_segments(organization, data.get("segments") or ())
    data["languages"] = list(data.get("languages") or ())
    data["segments"] = list(data.get("segments") or ())
    target = _decimal(data.get("target"), "target")
    if target is None:
        raise ActionsError(_("Set a target."), "target")
    _check_scale(kpi, target, "target")
    data["target"] = target
    baseline = _decimal(data.get("baseline"), "baseline")
    if baseline is not None:
        _check_scale(kpi, baseline, "baseline")
        data["baseline"] = baseline
    return data


def _with_measured_baseline(organization, data: dict, today: date) -> dict:
    """Fill in the baseline from the data, or keep the one typed in: a typed baseline equal to the
    measured one (the form showed it) keeps its n and margin of error."""
    kpi = kpis.get(data["kpi"])
    figure = measured_baseline(organization, data["kpi"], today,
                               **{k: data.get(k) or () for k in (*GOAL_SCOPE, "segments", "languages")})
    measured = progress.to_decimal(figure.value)
    if data.get("baseline") is None:
        if measured is None:
            raise ActionsError(_("There is no %(kpi)s data for this scope in the last 30 days: enter the baseline "
                                 "yourself.") % {"kpi": kpi.label}, "baseline")
        data["baseline"] = measured
    if measured is not None and data["baseline"] == measured:
        data["baseline_n"], data["baseline_margin_of_error"] = figure.n, progress.to_decimal(figure.margin_of_error)
    else:
        data["baseline_n"], data["baseline_margin_of_error"] = None, None
    return data


def _check_direction(data):
    kpi = kpis.get(data["kpi"])
    if data["target"] == data["baseline"] or kpi.better(data["baseline"], data["target"]):
        raise ActionsError(_("For %(kpi)s the target must be lower than the baseline (%(baseline)s).")
                           % {"kpi": kpi.label, "baseline": data["baseline"]} if kpi.lower_is_better else
                           _("For %(kpi)s the target must be higher than the baseline (%(baseline)s).")
                           % {"kpi": kpi.label, "baseline": data["baseline"]}, "target")


@transaction.atomic
def create_goal(organization, actor, *, kpi, target, deadline, owner, start_date=None, baseline=None, title="",
                description="", surveys=(), touchpoints=(), channels=(), segments=(), languages=(),
                today: date | None = None) -> Goal:
    today = today or timezone.now().date()
    data = _clean_goal(organization, {
        "kpi": kpi, "target": target, "deadline": deadline, "owner": owner, "start_date": start_date or today,
        "baseline": baseline, "surveys": list(surveys), "touchpoints": list(touchpoints),
        "channels": list(channels), "segments": segments, "languages": languages})
    data = _with_measured_baseline(organization, data, today)
    _check_direction(data)
    title, title_message = _titled(organization, (title or "").strip(), default_title(
        kpi, data["baseline"], data["target"], data["deadline"], data["touchpoints"]))
    goal = Goal.objects.create(
        organization=organization, title=title, title_message=title_message, description=description.strip(),
        kpi=kpi,
        baseline=data["baseline"], baseline_n=data["baseline_n"],
        baseline_margin_of_error=data["baseline_margin_of_error"], target=data["target"],
        start_date=data["start_date"], deadline=data["deadline"], owner=owner, created_by=actor,
        segments=data["segments"], languages=data["languages"])
    for name in GOAL_SCOPE:
        getattr(goal, name).set(data[name])
    _log(organization, actor, Event.GOAL_CREATED, goal=goal, subject=goal.title, subject_message=goal.title_message)
    if owner != actor:
        platform.notify(user=owner, organization=organization, kind=NotificationKind.ASSIGNED,
                        message=wording.message(wordings.GOAL_OWNER, who=_who(actor),
                                                goal=goal.title_message or goal.title),
                        link=reverse("actions:goal_detail", kwargs={"goal_id": goal.pk}))
    return goal


def _goal_values(goal) -> dict:
    values = {name: getattr(goal, name) for name in GOAL_FIELDS}
    values.update({name: list(getattr(goal, name).all()) for name in GOAL_SCOPE})
    return values


@transaction.atomic
def update_goal(goal, actor, *, version: int | None = None, **fields) -> Goal:
    """Change any of a goal's fields; the baseline stays as it is unless one is given (an edit
    never re-measures it behind the owner's back). An edit names the `version` it was made on."""
    goal = lock_version(Goal.objects.select_for_update(no_key=True).get(pk=goal.pk), version)
    before = _goal_values(goal)
    if fields.get("baseline") in (None, ""):
        fields.pop("baseline", None)
    unknown = set(fields) - set(GOAL_FIELDS) - set(GOAL_SCOPE)
    if unknown:
        raise ActionsError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    data = _clean_goal(goal.organization, {**before, **fields})
    if "baseline" in fields and data["baseline"] != before["baseline"]:
        # A baseline typed in over the measured one: its sample is no longer known.
        data["baseline_n"] = data["baseline_margin_of_error"] = None
    else:
        data["baseline_n"], data["baseline_margin_of_error"] = goal.baseline_n, goal.baseline_margin_of_error
    _check_direction(data)
    # Left out, a generated title stays generated (and follows the new target, deadline…).
    was_generated = bool(goal.title_message)
    typed = fields.get("title", "" if goal.title_message else goal.title)
    data["title"], goal.title_message = _titled(goal.organization, (typed or "").strip(), default_title(
        data["kpi"], data["baseline"], data["target"], data["deadline"], data["touchpoints"]))
    data["description"] = (data.get("description") or "").strip()
    for name in (*GOAL_FIELDS, "baseline_n", "baseline_margin_of_error"):
        setattr(goal, name, data[name])
    goal.save()
    for name in GOAL_SCOPE:
        getattr(goal, name).set(data[name])
    changes = _changes(before, {**{n: data[n] for n in GOAL_FIELDS}, **{n: data[n] for n in GOAL_SCOPE}})
    if changes:
        # A generated title that followed the target is no change of its own (and its words are the
        # organization's: the history names the goal in the reader's, as its subject).
        shown = {k: v for k, v in changes.items() if not (k == "title" and was_generated and goal.title_message)}
        _log(goal.organization, actor, Event.GOAL_CHANGED, goal=goal, subject=goal.title,
             subject_message=goal.title_message, changes=shown)
        events.emit(GOAL_UPDATED, organization=goal.organization, goal_id=goal.pk, changed=sorted(changes))
    return goal


@transaction.atomic
def delete_goal(goal, actor) -> None:
    """The goal goes; its actions stay, on their own (they may still be worth doing)."""
    for action in goal.actions.all():
        _log(goal.organization, actor, Event.ACTION_CHANGED, action_item=action, subject=action.title,
             changes={"goal": [goal.title, None]})
    HistoryEntry.objects.filter(goal=goal, action_item__isnull=True).delete()
    goal.delete()


def _changes(before: dict, after: dict) -> dict:
    changes = {}
    for name, value in after.items():
        old = before.get(name)
        if isinstance(value, list) and not isinstance(old, list):
            old = list(old or [])
        if _comparable(old) != _comparable(value):
            changes[name] = [_display(old), _display(value)]
    return changes


def _comparable(value):
    if isinstance(value, list | tuple):
        return sorted((getattr(v, "pk", v) for v in value), key=str)
    return getattr(value, "pk", value)


# ---------------------------------------------------------------------------------------------
# Actions


@dataclass
class Links:
    pain_points: list
    root_causes: list
    tags: list


def _clean_action(organization, data: dict) -> dict:
    data["title"] = (data.get("title") or "").strip()
    if not data["title"]:
        raise ActionsError(_("Give the action a title."), "title")
    if len(data["title"]) > 200:
        raise ActionsError(_("A title has at most 200 characters."), "title")
    if data.get("due_date") is None:
        raise ActionsError(_("Choose the due date."), "due_date")
    if data.get("status") not in Status.values:
        raise ActionsError(_("Choose one of the statuses."), "status")
    _check_owner(organization, data.get("owner"))
    _check_same_org(organization, [data.get("goal"), data.get("from_item")], "goal")
    for name in ACTION_LINKS:
        _check_same_org(organization, data.get(name) or (), name)
    data["description"] = (data.get("description") or "").strip()
    return data


@transaction.atomic
def create_action(organization, actor, *, title, owner, due_date, goal=None, description="",
                  status=Status.PLANNED, pain_points=(), root_causes=(), tags=(), from_item=None) -> ActionItem:
    data = _clean_action(organization, {
        "title": title, "owner": owner, "due_date": due_date, "goal": goal, "description": description,
        "status": status, "pain_points": list(pain_points), "root_causes": list(root_causes), "tags": list(tags),
        "from_item": from_item})
    action = ActionItem.objects.create(
        organization=organization, goal=data["goal"], title=data["title"], description=data["description"],
        owner=owner, due_date=due_date, status=data["status"], from_item=from_item, created_by=actor,
        done_at=timezone.now() if data["status"] == Status.DONE else None)
    for name in ACTION_LINKS:
        getattr(action, name).set(data[name])
    _log(organization, actor, Event.ACTION_CREATED, goal=action.goal, action_item=action, subject=action.title)
    _tell_new_owner(action, actor)
    return action


def _tell_new_owner(action, actor):
    if action.owner_id and action.owner != actor:
        platform.notify(user=action.owner, organization=action.organization, kind=NotificationKind.ASSIGNED,
                        message=wording.message(wordings.ACTION_GIVEN, who=_who(actor), action=action.title,
                                                due=action.due_date.isoformat()),
                        link=reverse("actions:action_detail", kwargs={"action_item_id": action.pk}))


def _action_values(action) -> dict:
    values = {name: getattr(action, name) for name in ACTION_FIELDS}
    values.update({name: list(getattr(action, name).all()) for name in ACTION_LINKS})
    return values


@transaction.atomic
def update_action(action, actor, *, version: int | None = None, **fields) -> ActionItem:
    action = lock_version(ActionItem.objects.select_for_update(no_key=True).get(pk=action.pk), version)
    unknown = set(fields) - set(ACTION_FIELDS) - set(ACTION_LINKS)
    if unknown:
        raise ActionsError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    before = _action_values(action)
    data = _clean_action(action.organization, {**before, "from_item": action.from_item, **fields})
    changes = _changes(before, {n: data[n] for n in (*ACTION_FIELDS, *ACTION_LINKS)})
    if not changes:
        return action
    for name in ACTION_FIELDS:
        setattr(action, name, data[name])
    if "status" in changes:
        action.done_at = timezone.now() if action.status == Status.DONE else None
    action.save()
    for name in ACTION_LINKS:
        if name in changes:
            getattr(action, name).set(data[name])
    # The history of a status change names the goal it counts for, before and after a move.
    _log(action.organization, actor, Event.ACTION_CHANGED, goal=action.goal or before["goal"], action_item=action,
         subject=action.title, changes=changes)
    if "owner" in changes:
        _tell_new_owner(action, actor)
    return action


def set_status(action, actor, status) -> ActionItem:
    return update_action(action, actor, status=status)


@transaction.atomic
def add_comment(action, actor, text) -> ActionComment:
    text = (text or "").strip()
    if not text:
        raise ActionsError(_("The comment is empty."), "text")
    comment = ActionComment.objects.create(organization=action.organization, action_item=action, author=actor,
                                           text=text)
    _log(action.organization, actor, Event.COMMENTED, goal=action.goal, action_item=action, subject=text[:200])
    if action.owner_id and action.owner != actor:
        platform.notify(user=action.owner, organization=action.organization, kind=NotificationKind.COMMENT,
                        message=wording.message(wordings.COMMENTED, who=_who(actor), action=action.title),
                        link=reverse("actions:action_detail", kwargs={"action_item_id": action.pk}))
    return comment
