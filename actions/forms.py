"""Forms of goals and actions. They parse and offer only the organization's own rows; the rules
(direction of the target, owners, one organization) are the services'.

The goal form's scope fields carry the dashboard's names (survey, touchpoint, channel, segment,
language), so "Create a goal from this figure" hands the dashboard's query string straight on.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cxplatform.tenancy import scoped
from cxplatform.versioning import version_field
from feedback.models import RootCause, Tag
from journeys.models import Channel, PainPoint, Touchpoint
from metrics.selectors import segments
from surveys.models import Survey

from . import kpis, services
from .models import ActionItem, Goal

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCOPE_FIELDS = ("survey", "touchpoint", "channel", "segment", "language")
# The services' field names for the form's.
SERVICE_FIELDS = {"surveys": "survey", "touchpoints": "touchpoint", "channels": "channel", "segments": "segment",
                  "languages": "language"}


class OwnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class GoalForm(forms.Form):
    version = version_field()
    kpi = forms.ChoiceField(label=_("KPI"), choices=kpis.choices())
    touchpoint = forms.ModelMultipleChoiceField(label=_("Touchpoint"), queryset=Touchpoint.objects.none(),
                                                required=False)
    survey = forms.ModelMultipleChoiceField(label=_("Survey"), queryset=Survey.objects.none(), required=False)
    channel = forms.ModelMultipleChoiceField(label=_("Channel"), queryset=Channel.objects.none(), required=False)
    segment = forms.MultipleChoiceField(label=_("Segment"), required=False)
    language = forms.MultipleChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)
    baseline = forms.DecimalField(label=_("Baseline"), max_digits=8, decimal_places=2, required=False,
                                  help_text=_("Where the KPI stands now: measured over the last 30 days for this "
                                              "scope. Change it only if you know better."))
    target = forms.DecimalField(label=_("Target"), max_digits=8, decimal_places=2)
    start_date = forms.DateField(label=_("Start"), widget=DATE)
    deadline = forms.DateField(label=_("Deadline"), widget=DATE)
    owner = OwnerChoice(label=_("Owner"), queryset=Goal.objects.none(), empty_label=None)
    title = forms.CharField(label=_("Title"), max_length=200, required=False,
                            help_text=_("Leave it empty and it is written for you, like “NPS at Home delivery from 12 "
                                        "to 30 by 31 March 2027”."))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization).filter(archived=False)
        self.fields["survey"].queryset = scoped(Survey, organization)
        self.fields["channel"].queryset = scoped(Channel, organization)
        self.fields["segment"].choices = [(s, s) for s in segments(organization)]
        self.fields["owner"].queryset = services.members(organization)

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {"kpi": d["kpi"], "title": d["title"], "description": d["description"], "baseline": d["baseline"],
                "target": d["target"], "start_date": d["start_date"], "deadline": d["deadline"], "owner": d["owner"],
                "surveys": list(d["survey"]), "touchpoints": list(d["touchpoint"]), "channels": list(d["channel"]),
                "segments": list(d["segment"]), "languages": list(d["language"])}

    def add_service_error(self, error: services.ActionsError):
        name = SERVICE_FIELDS.get(error.field, error.field)
        self.add_error(name if name in self.fields else None, error.message)


def prefill(query, organization, user) -> tuple[dict, bool]:
    """A new goal's initial values from a query string (the dashboard's filters, or the form's own
    fields when it re-measures the baseline). Returns the values and whether some were not ours."""
    probe = GoalForm(organization=organization)
    kpi = query.get("kpi") if query.get("kpi") in kpis.KPIS else "nps"
    initial = {"kpi": kpi, "start_date": timezone.now().date(), "owner": user.pk}
    dropped = False
    for name in SCOPE_FIELDS:
        values = [v for v in query.getlist(name) if v]
        if not values:
            continue
        try:
            initial[name] = probe.fields[name].clean(values)
        except forms.ValidationError:
            dropped = True
    for name in ("target", "deadline", "title", "description", "owner", "start_date"):
        if query.get(name):
            try:
                initial[name] = probe.fields[name].clean(query.get(name))
            except forms.ValidationError:
                dropped = True
    if hasattr(initial.get("owner"), "pk"):
        initial["owner"] = initial["owner"].pk
    return initial, dropped


def goal_initial(goal) -> dict:
    # A generated title stays generated (in each reader's language) unless someone types one.
    return {"version": goal.version, "kpi": goal.kpi, "title": "" if goal.title_message else goal.title,
            "description": goal.description,
            "baseline": goal.baseline,
            "target": goal.target, "start_date": goal.start_date, "deadline": goal.deadline,
            "owner": goal.owner_id, "survey": list(goal.surveys.all()), "touchpoint": list(goal.touchpoints.all()),
            "channel": list(goal.channels.all()), "segment": goal.segments, "language": goal.languages}


class PainPointChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        where = f"{obj.journey_map.name} · {obj.touchpoint.name}" if obj.touchpoint_id else obj.journey_map.name
        return f"{where}: {obj.description[:90]}"


class ActionForm(forms.Form):
    version = version_field()
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    goal = forms.ModelChoiceField(label=_("Goal"), queryset=Goal.objects.none(), required=False,
                                  empty_label=_("No goal (on its own)"))
    owner = OwnerChoice(label=_("Owner"), queryset=Goal.objects.none(), empty_label=None)
    due_date = forms.DateField(label=_("Due"), widget=DATE)
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)
    pain_points = PainPointChoice(label=_("Pain points"), queryset=PainPoint.objects.none(), required=False)
    root_causes = forms.ModelMultipleChoiceField(label=_("Root causes"), queryset=RootCause.objects.none(),
                                                 required=False)
    tags = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.none(), required=False)

    def __init__(self, *args, organization, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        linked = {name: [o.pk for o in getattr(action, name).all()] if action else []
                  for name in ("pain_points", "root_causes", "tags")}
        self.fields["goal"].queryset = scoped(Goal, organization)
        self.fields["owner"].queryset = services.members(organization)
        # Open pain points and active root causes, plus whatever the action already points at.
        self.fields["pain_points"].queryset = scoped(PainPoint, organization).filter(
            Q(status=PainPoint.Status.OPEN) | Q(pk__in=linked["pain_points"])).select_related(
            "journey_map", "touchpoint").order_by("journey_map__name", "-severity", "id")
        self.fields["root_causes"].queryset = scoped(RootCause, organization).filter(
            Q(active=True) | Q(pk__in=linked["root_causes"])).select_related("parent").order_by(
            "parent__name", "name")
        self.fields["tags"].queryset = scoped(Tag, organization)

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {"title": d["title"], "description": d["description"], "goal": d["goal"], "owner": d["owner"],
                "due_date": d["due_date"], "status": d["status"], "pain_points": list(d["pain_points"]),
                "root_causes": list(d["root_causes"]), "tags": list(d["tags"])}

    def add_service_error(self, error: services.ActionsError):
        self.add_error(error.field if error.field in self.fields else None, error.message)


def action_initial(action) -> dict:
    return {"version": action.version, "title": action.title, "description": action.description, "goal": action.goal_id,
            "owner": action.owner_id, "due_date": action.due_date, "status": action.status,
            "pain_points": list(action.pain_points.all()), "root_causes": list(action.root_causes.all()),
            "tags": list(action.tags.all())}


def default_due():
    return timezone.now().date() + timedelta(days=14)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionItem.Status.choices)


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
