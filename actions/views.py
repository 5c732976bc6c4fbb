"""Goals and actions pages (thin: the rules are in services.py, the reads in selectors.py,
progress.py and root_causes.py).

Who may do what: designers (DESIGN) set goals and plan actions; whoever works the frontline
(WORK_INBOX) moves an action's status and comments on it; every member reads.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cxplatform.input_checks import int_or_none, local_path
from cxplatform.models import Capability
from cxplatform.permissions import capability_required, member_required
from cxplatform.tenancy import get_for_org_or_404, scoped
from cxplatform.versioning import StaleEdit
from feedback.models import FeedbackItem, RootCause
from journeys.models import PainPoint, Touchpoint

from . import charts, forms, kpis, progress, root_causes, selectors, services
from .models import ActionItem, Goal

design_required = capability_required(Capability.DESIGN)
work_required = capability_required(Capability.WORK_INBOX)


def _can(request, capability):
    return bool(request.membership and request.membership.can(capability))


@member_required
@require_safe
def index(request):
    """Every goal with its verdict, and the open actions — overdue first."""
    today = timezone.now().date()
    goals = [{"goal": g, "progress": progress.progress(g, today, latest_only=True)}
             for g in selectors.goals(request.organization)]
    open_actions = sorted(selectors.open_actions(request.organization), key=lambda a: (not a.is_overdue(today),
                                                                                      a.due_date, a.pk))
    return render(request, "actions/index.html", {
        "goals": goals, "open_actions": open_actions, "today": today,
        "mine": [a for a in open_actions if a.owner_id == request.user.pk],
        "can_work": _can(request, Capability.WORK_INBOX), "status_choices": ActionItem.Status.choices,
    })


# ---------------------------------------------------------------------------------------------
# Goals


def _baseline_hint(request, initial):
    """The KPI over the last 30 days for the form's KPI and scope: the baseline a new goal gets."""
    today = timezone.now().date()
    scope = {"surveys": initial.get("survey") or (), "touchpoints": initial.get("touchpoint") or (),
             "channels": initial.get("channel") or (), "segments": initial.get("segment") or (),
             "languages": initial.get("language") or ()}
    figure = services.measured_baseline(request.organization, initial["kpi"], today, **scope)
    return {"figure": figure, "kpi": kpis.get(initial["kpi"]), "value": progress.to_decimal(figure.value),
            "margin_of_error": progress.to_decimal(figure.margin_of_error),
            "start": progress.GoalScope(request.organization).window(today).start, "end": today}


@design_required
@require_http_methods(["GET", "POST"])
def goal_new(request):
    """A new goal, prefilled from the query string: "Create a goal from this figure" on the
    dashboard passes the KPI and the dashboard's filters. Changing the KPI or the scope re-measures
    the baseline (htmx asks for the form alone)."""
    if request.method == "POST":
        form = forms.GoalForm(request.POST, organization=request.organization)
        if form.is_valid():
            try:
                goal = services.create_goal(request.organization, request.user, **form.service_fields())
            except services.ActionsError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("The goal is set. Now plan the actions that should move it."))
                return redirect("actions:goal_detail", goal_id=goal.pk)
        return render(request, "actions/goal_form.html", {"form": form, "creating": True}, status=400)
    initial, dropped = forms.prefill(request.GET, request.organization, request.user)
    hint = _baseline_hint(request, initial)
    initial["baseline"] = hint["value"]
    form = forms.GoalForm(initial=initial, organization=request.organization)
    context = {"form": form, "creating": True, "hint": hint, "dropped": dropped}
    template = "actions/goal_form.htmx.html" if request.htmx else "actions/goal_form.html"
    return render(request, template, context)


def _goal(request, goal_id):
    return get_for_org_or_404(selectors.goals(request.organization), request.organization, pk=goal_id)


@member_required
@require_safe
def goal_detail(request, goal_id):
    """The review of one goal: what, who, by when, what is done, what moved — and the curve."""
    goal = _goal(request, goal_id)
    today = timezone.now().date()
    result = progress.progress(goal, today)
    actions = list(selectors.actions(request.organization).filter(goal=goal))
    return render(request, "actions/goal_detail.html", {
        "goal": goal, "kpi": goal.indicator, "progress": result, "today": today,
        "days_left": (goal.deadline - today).days,
        "chart_json": charts.progress_chart(goal, result) if result.points else None,
        "actions": actions, "overdue": [a for a in actions if a.is_overdue(today)],
        "history": selectors.goal_history(goal), "can_work": _can(request, Capability.WORK_INBOX),
        "status_choices": ActionItem.Status.choices, "window_days": progress.WINDOW_DAYS,
    })


@design_required
@require_http_methods(["GET", "POST"])
def goal_edit(request, goal_id):
    goal = _goal(request, goal_id)
    if request.method == "POST":
        form = forms.GoalForm(request.POST, organization=request.organization)
        if form.is_valid():
            try:
                services.update_goal(goal, request.user, version=form.cleaned_data["version"], **form.service_fields())
            except services.ActionsError as exc:
                form.add_service_error(exc)
            except StaleEdit as exc:
                form.add_error(None, str(exc))
                return render(request, "actions/goal_form.html", {"form": form, "goal": goal}, status=409)
            else:
                messages.success(request, _("The goal is saved."))
                return redirect("actions:goal_detail", goal_id=goal.pk)
        return render(request, "actions/goal_form.html", {"form": form, "goal": goal}, status=400)
    form = forms.GoalForm(initial=forms.goal_initial(goal), organization=request.organization)
    return render(request, "actions/goal_form.html", {"form": form, "goal": goal})


@design_required
@require_POST
def goal_delete(request, goal_id):
    goal = _goal(request, goal_id)
    services.delete_goal(goal, request.user)
    messages.success(request, _("The goal “%(goal)s” is deleted; its actions stay, on their own.") % {
        "goal": goal.display_title})
    return redirect("actions:index")


# ---------------------------------------------------------------------------------------------
# Actions


def _pk(value):
    return int_or_none(value, low=1)


def _action_prefill(request):
    """A new action's initial values from where it was started: a goal, a pain point, a root
    cause or an inbox item (`?goal=`, `?pain_point=`, `?root_cause=`, `?item=`). Unknown or
    another organization's ids are ignored, like a missing id."""
    org, query = request.organization, request.GET
    initial = {"owner": request.user.pk, "due_date": forms.default_due(), "status": ActionItem.Status.PLANNED}
    origin = {}
    pain_points, causes, tags = [], [], []
    touchpoint = None
    if goal := scoped(Goal, org).filter(pk=_pk(query.get("goal"))).first():
        initial["goal"] = goal.pk
        origin["goal"] = goal
    if pain := scoped(PainPoint, org).filter(pk=_pk(query.get("pain_point"))).select_related("touchpoint").first():
        pain_points.append(pain)
        touchpoint = pain.touchpoint
        initial["title"] = _("Fix: %(pain)s") % {"pain": pain.description[:180]}
        origin["pain_point"] = pain
    if cause := scoped(RootCause, org).filter(pk=_pk(query.get("root_cause"))).select_related("parent").first():
        causes.append(cause)
        initial.setdefault("title", _("Remove the cause: %(cause)s") % {"cause": str(cause)[:170]})
        origin["root_cause"] = cause
        if tp := scoped(Touchpoint, org).filter(pk=_pk(query.get("touchpoint"))).first():
            touchpoint = tp
            pain_points.extend(selectors.open_pain_points_at(org, tp))
    if item := scoped(FeedbackItem, org).filter(pk=_pk(query.get("item"))).select_related(
            "root_cause__parent", "touchpoint").first():
        tags.extend(item.tags.all())
        if item.root_cause_id:
            causes.append(item.root_cause)
        pain_points.extend(e.pain_point for e in item.evidence.select_related("pain_point"))
        touchpoint = touchpoint or item.touchpoint
        initial.setdefault("title", _("Act on item #%(id)s: %(text)s") % {"id": item.pk, "text": item.text[:120]})
        origin["item"] = item
    # The goal that measures this touchpoint, if there is one, is the likely home of the fix.
    if "goal" not in initial and touchpoint is not None and (
            home := scoped(Goal, org).filter(touchpoints=touchpoint, deadline__gte=timezone.now().date()).first()):
        initial["goal"] = home.pk
    initial.update({"pain_points": list(dict.fromkeys(pain_points)), "root_causes": list(dict.fromkeys(causes)),
                    "tags": tags})
    return initial, origin, {"pain_points": pain_points, "root_causes": causes, "tags": tags}


@design_required
@require_http_methods(["GET", "POST"])
def action_new(request):
    if request.method == "POST":
        form = forms.ActionForm(request.POST, organization=request.organization)
        item = scoped(FeedbackItem, request.organization).filter(pk=_pk(request.POST.get("from_item"))).first()
        if form.is_valid():
            try:
                action = services.create_action(request.organization, request.user, from_item=item,
                                                **form.service_fields())
            except services.ActionsError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("The action “%(action)s” is planned.") % {"action": action.title})
                if action.goal_id:
                    return redirect("actions:goal_detail", goal_id=action.goal_id)
                return redirect("actions:action_detail", action_item_id=action.pk)
        return render(request, "actions/action_form.html", {"form": form, "origin": {"item": item} if item else {}},
                      status=400)
    initial, origin, links = _action_prefill(request)
    form = forms.ActionForm(initial=initial, organization=request.organization)
    related = selectors.related_open_actions(request.organization, **links) if any(links.values()) else []
    return render(request, "actions/action_form.html", {"form": form, "origin": origin, "related": related})


def _action(request, action_item_id):
    return get_for_org_or_404(selectors.actions(request.organization), request.organization, pk=action_item_id)


@member_required
@require_safe
def action_detail(request, action_item_id):
    action = _action(request, action_item_id)
    return render(request, "actions/action_detail.html", {
        "action": action, "today": timezone.now().date(), "history": selectors.action_history(action),
        "comments": action.comments.select_related("author"), "comment_form": forms.CommentForm(),
        "can_work": _can(request, Capability.WORK_INBOX), "status_choices": ActionItem.Status.choices,
    })


@design_required
@require_http_methods(["GET", "POST"])
def action_edit(request, action_item_id):
    action = _action(request, action_item_id)
    if request.method == "POST":
        form = forms.ActionForm(request.POST, organization=request.organization, action=action)
        if form.is_valid():
            try:
                services.update_action(action, request.user, version=form.cleaned_data["version"],
                                       **form.service_fields())
            except services.ActionsError as exc:
                form.add_service_error(exc)
            except StaleEdit as exc:
                form.add_error(None, str(exc))
                return render(request, "actions/action_form.html", {"form": form, "action": action}, status=409)
            else:
                messages.success(request, _("The action is saved."))
                return redirect("actions:action_detail", action_item_id=action.pk)
        return render(request, "actions/action_form.html", {"form": form, "action": action}, status=400)
    form = forms.ActionForm(initial=forms.action_initial(action), organization=request.organization, action=action)
    return render(request, "actions/action_form.html", {"form": form, "action": action})


def _back(request, action):
    """Back to the page the button was on (the goal's or the action's), never off the site."""
    back = local_path(request.POST.get("next"))
    if back:
        return redirect(back)
    return redirect("actions:action_detail", action_item_id=action.pk)


@work_required
@require_POST
def action_status(request, action_item_id):
    action = _action(request, action_item_id)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the statuses."))
        return _back(request, action)
    if form.cleaned_data["status"] != action.status:
        action = services.set_status(action, request.user, form.cleaned_data["status"])
        messages.success(request, _("“%(action)s” is now %(status)s.") % {
            "action": action.title, "status": action.get_status_display().lower()})
    return _back(request, action)


@work_required
@require_POST
def action_comment(request, action_item_id):
    action = _action(request, action_item_id)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(action, request.user, form.cleaned_data["text"])
        except services.ActionsError as exc:
            form.add_error("text", exc.message)
    if form.errors:
        return render(request, "actions/action_detail.html", {
            "action": action, "today": timezone.now().date(), "history": selectors.action_history(action),
            "comments": action.comments.select_related("author"), "comment_form": form, "can_work": True,
            "status_choices": ActionItem.Status.choices,
        }, status=400)
    return redirect(reverse("actions:action_detail", kwargs={"action_item_id": action.pk}) + "#comments")


# ---------------------------------------------------------------------------------------------
# Fragments for the journey pages, root causes


@member_required
@require_safe
def touchpoint_actions(request, touchpoint_id):
    """The open actions at a touchpoint's pain points, with a "Create an action" link per open
    pain point: loaded into the touchpoint page and each campaign-readiness step."""
    touchpoint = get_for_org_or_404(Touchpoint, request.organization, pk=touchpoint_id)
    today = timezone.now().date()
    return render(request, "actions/touchpoint_actions.htmx.html", {
        "touchpoint": touchpoint, "actions": selectors.at_touchpoint(request.organization, touchpoint),
        "pain_points": selectors.open_pain_points_at(request.organization, touchpoint), "today": today,
        "compact": request.GET.get("compact") == "1",
    })


MONTH_CHOICES = (6, 12, 24)


@member_required
@require_safe
def root_cause_analysis(request):
    """Cases and inbox items by root cause × touchpoint × month, with trends."""
    months = _pk(request.GET.get("months"))
    months = months if months in MONTH_CHOICES else 12
    kind = request.GET.get("kind", "")
    kind = kind if kind in FeedbackItem.Kind.values else ""
    data = root_causes.analysis(request.organization, timezone.now().date(), months, kind)
    return render(request, "actions/root_causes.html", {
        **data, "chart_json": charts.root_cause_chart(data["months"], data["causes"],
                                                      current_month_days=data["current_month_days"])
        if data["causes"] else None,
        "months_choice": months, "month_choices": MONTH_CHOICES, "kind": kind, "kinds": FeedbackItem.Kind.choices,
    })
