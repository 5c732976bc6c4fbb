from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cxplatform.models import ROLE_CAPABILITIES, Capability
from cxplatform.tenancy import scoped

from .models import FeedbackItem, Tag, Team


class TriageForm(forms.Form):
    """Status, priority, team, assignee and tags of an item, and the version the agent saw."""

    status = forms.ChoiceField(label=_("Status"), choices=FeedbackItem.Status.choices)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=FeedbackItem.Priority.choices, coerce=int)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=get_user_model().objects.none(), required=False)
    tags = forms.ModelMultipleChoiceField(label=_("Tags"), queryset=Tag.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = scoped(Team, organization)
        self.fields["tags"].queryset = scoped(Tag, organization)
        agents = [role for role, caps in ROLE_CAPABILITIES.items() if Capability.WORK_INBOX in caps]
        self.fields["assignee"].queryset = get_user_model().objects.filter(
            memberships__organization=organization, memberships__role__in=agents).order_by("username")
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username

    @classmethod
    def for_item(cls, item, organization):
        return cls(organization=organization, initial={
            "status": item.status, "priority": item.priority, "team": item.team_id, "assignee": item.assignee_id,
            "tags": list(item.tags.values_list("pk", flat=True)), "version": item.version})


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Only colleagues see notes. Mention someone with @username."))
