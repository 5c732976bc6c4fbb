"""What the map page's editing forms post, parsed and scoped; the rules themselves are in services.

Every id a form accepts is looked up only among the current organization's rows (and, where
it must be, the map's own), so a foreign id is refused as "not a choice" and changes nothing.
"""

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from cxplatform.tenancy import scoped
from cxplatform.versioning import version_field

from . import exchange
from .models import EMOTION_LABELS, Channel, Opportunity, PainPoint, Persona, Stage, Touchpoint

# Lazy labels: the list is built at import, the words are chosen per request's language.
EMOTION_CHOICES = [("", "—")] + [(str(value), format_lazy("{:+d} {}", value, label))
                                 for value, label in EMOTION_LABELS.items()]


def first_error(form) -> str:
    """One line for the board's alert: "<field label>: <message>" of the first problem."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return ""


def _choice(queryset, label, required=False, message=None):
    return forms.ModelChoiceField(
        queryset=queryset, label=label, required=required,
        error_messages={"invalid_choice": message or _("Choose one of the listed options.")},
    )


class PersonaForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "persona_%s")  # the index page also holds the map form
        super().__init__(*args, **kwargs)

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    goals = forms.CharField(label=_("Goals"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class MapCreateForm(forms.Form):
    """A new map of a persona: the five default stages, or a copy of a library template."""

    persona = forms.ModelChoiceField(queryset=Persona.objects.none(), label=_("Persona"),
                                     error_messages={"invalid_choice": _("Choose one of your personas."),
                                                     "required": _("Choose a persona.")})
    name = forms.CharField(label=_("Map name"), max_length=200, required=False)
    template = forms.ChoiceField(label=_("Start from"), required=False)
    # The language the new map's stages and a template's texts are written in.
    language = forms.ChoiceField(label=_("Map language"), choices=settings.LANGUAGES, required=False)

    def __init__(self, data=None, *, organization, **kwargs):
        kwargs.setdefault("auto_id", "map_%s")
        super().__init__(data, **kwargs)
        self.fields["persona"].queryset = scoped(Persona, organization)
        self.fields["language"].initial = exchange.template_language(None)
        self.fields["template"].choices = [("", _("The five default stages"))] + [
            (entry["slug"], entry["name"]) for entry in exchange.library()
        ]

    def clean(self):
        data = super().clean()
        if not data.get("template") and not (data.get("name") or "").strip():
            self.add_error("name", _("A name is required."))
        data["language"] = exchange.template_language(data.get("language"))
        return data


class StageNameForm(forms.Form):
    # Emptiness is the service's rule ("A name is required."), so it is not checked twice here.
    name = forms.CharField(label=_("Stage name"), max_length=100, required=False, strip=False)


class TouchpointForm(forms.Form):
    version = version_field()
    name = forms.CharField(label=_("Touchpoint name"), max_length=200, required=False, strip=False)
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), label=_("Channel"), required=False,
                                     error_messages={"invalid_choice": _("Choose one of your channels.")})
    customer_goal = forms.CharField(label=_("Customer goal"), required=False)
    department = forms.CharField(label=_("Department"), max_length=100, required=False)
    expected_emotion = forms.TypedChoiceField(label=_("Expected emotion"), choices=EMOTION_CHOICES, coerce=int,
                                              empty_value=None, required=False)
    description = forms.CharField(label=_("Description"), required=False)

    def __init__(self, data=None, *, organization, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["channel"].queryset = scoped(Channel, organization)

    def changes(self):
        """The fields the request actually sent, so a rename-only post changes only the name."""
        return {name: self.cleaned_data[name] for name in self.fields if name in self.data and name != "version"}


class MoveForm(forms.Form):
    """A drag-and-drop drop (a target stage and a position) or one arrow-button step."""

    direction = forms.ChoiceField(label=_("Direction"), required=False,
                                  choices=[("", "")] + [(d, d) for d in ("left", "right", "up", "down")])
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=10_000, required=False)
    stage = _choice(Stage.objects.none(), _("Stage"), message=_("Choose a stage of this map."))

    def __init__(self, data=None, *, journey_map, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(journey_map=journey_map)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("direction") and data.get("position") is None:
            raise forms.ValidationError(_("Say where to move it: a direction or a position."))
        return data


class PainPointForm(forms.Form):
    version = version_field()
    description = forms.CharField(label=_("Pain point"), required=False)
    severity = forms.TypedChoiceField(label=_("Severity"), choices=PainPoint.Severity.choices, coerce=int)
    status = forms.ChoiceField(label=_("Status"), choices=PainPoint.Status.choices, required=False)
    touchpoint = _choice(Touchpoint.objects.none(), _("Touchpoint"), message=_("Choose a touchpoint of this map."))

    def __init__(self, data=None, *, journey_map, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["touchpoint"].queryset = Touchpoint.objects.filter(stage__journey_map=journey_map)

    def values(self):
        data = {key: self.cleaned_data[key] for key in ("description", "severity", "touchpoint")}
        if self.cleaned_data.get("status"):
            data["status"] = self.cleaned_data["status"]
        return data


class OpportunityForm(forms.Form):
    version = version_field()
    idea = forms.CharField(label=_("Idea"), required=False)
    impact = forms.ChoiceField(label=_("Expected impact"), choices=Opportunity.Impact.choices)
    pain_point = _choice(PainPoint.objects.none(), _("Pain point"), message=_("Choose a pain point of this map."))

    def __init__(self, data=None, *, journey_map, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["pain_point"].queryset = PainPoint.objects.filter(journey_map=journey_map)


class CampaignForm(forms.Form):
    """The touchpoints a campaign sends customers through, kept in the URL (?touchpoint=…)."""

    name = forms.CharField(label=_("Campaign"), max_length=200, required=False)
    touchpoint = forms.ModelMultipleChoiceField(
        queryset=Touchpoint.objects.none(), label=_("Touchpoints"), required=False,
        error_messages={"invalid_choice": _("Choose touchpoints of your organization."),
                        "invalid_pk_value": _("Choose touchpoints of your organization.")},
    )

    def __init__(self, data=None, *, organization, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["touchpoint"].queryset = (
            scoped(Touchpoint, organization).filter(archived=False)
            .select_related("stage__journey_map").order_by("stage__journey_map__name", "stage__position",
                                                          "position", "name")
        )
