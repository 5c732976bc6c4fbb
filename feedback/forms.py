import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cxplatform.models import ROLE_CAPABILITIES, Capability
from cxplatform.tenancy import scoped
from journeys.models import Touchpoint

from .models import FeedbackItem, Tag, Team
from .selectors import theme_choices

_PAIR = re.compile(r"\d{1,12}:\d{1,9}")


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
        self.fields["assignee"].queryset = agents_of(organization)
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username

    @classmethod
    def for_item(cls, item, organization):
        return cls(organization=organization, initial={
            "status": item.status, "priority": item.priority, "team": item.team_id, "assignee": item.assignee_id,
            "tags": list(item.tags.values_list("pk", flat=True)), "version": item.version})


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Only colleagues see notes. Mention someone with @username."))


def agents_of(organization):
    agents = [role for role, caps in ROLE_CAPABILITIES.items() if Capability.WORK_INBOX in caps]
    return get_user_model().objects.filter(
        memberships__organization=organization, memberships__role__in=agents,
        memberships__is_active=True).order_by("username")


class InboxFilterForm(forms.Form):
    """The inbox's filters, read from the query string (so a view is a link to share or save).
    A value that is not valid here is ignored, never an error page."""

    VIEWS = [("open", _("Open")), ("mine", _("Mine")), ("cases", _("Call-backs")), ("unassigned", _("Unassigned")),
             ("breaching", _("Breaching soon")), ("urgent", _("Urgent")), ("all", _("All"))]

    view = forms.ChoiceField(choices=VIEWS, required=False)
    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[("", _("Any")), *FeedbackItem.Status.choices],
                               required=False)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, empty_value=None, required=False,
                                      choices=[("", _("Any")), *FeedbackItem.Priority.choices])
    source = forms.ChoiceField(label=_("Source"), choices=[("", _("Any")), *FeedbackItem.Source.choices],
                               required=False)
    sentiment = forms.TypedChoiceField(label=_("Sentiment"), coerce=int, empty_value=None, required=False,
                                       choices=[("", _("Any")), (-1, _("negative")), (0, _("neutral")),
                                                (1, _("positive"))])
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False,
                                  empty_label=_("Any"))
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False, to_field_name="name",
                                 empty_label=_("Any"))
    touchpoint = forms.ModelChoiceField(label=_("Touchpoint"), queryset=Touchpoint.objects.none(), required=False,
                                        empty_label=_("Any"))
    theme = forms.ChoiceField(label=_("Theme"), required=False)

    def __init__(self, data, *, organization):
        super().__init__(data)
        self.fields["theme"].choices = [("", _("Any")), *theme_choices(organization, get_language())]
        self.fields["team"].queryset = scoped(Team, organization)
        self.fields["tag"].queryset = scoped(Tag, organization)
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization).filter(archived=False)
        self.fields["assignee"].choices = [("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody")),
                                           *((str(u.pk), u.get_full_name() or u.username)
                                             for u in agents_of(organization))]

    def filters(self) -> dict:
        """The valid filters; an invalid one is dropped (a stale link still opens the inbox)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "")}


class BulkForm(forms.Form):
    """Several items at once: each named with the version the agent saw ("id:version")."""

    ACTIONS = [("tag", _("Add tag")), ("assign", _("Assign")), ("resolve", _("Resolve"))]

    action = forms.ChoiceField(choices=ACTIONS)
    items = forms.MultipleChoiceField(choices=(), error_messages={"required": _("Select at least one item.")})
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.none(), required=False)
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)

    def __init__(self, data, *, organization, user):
        super().__init__(data, auto_id="id_%s_bulk")  # beside the filter form's fields of the same names
        self.user = user
        self.fields["tag"].queryset = scoped(Tag, organization)
        self.agents = {str(u.pk): u for u in agents_of(organization)}
        self.fields["assignee"].choices = [("", "—"), ("me", _("Me")), ("none", _("Nobody")),
                                           *((pk, u.get_full_name() or u.username) for pk, u in self.agents.items())]
        # Any "id:version" pair is well-formed here; the service checks ids against the organization.
        self.fields["items"].valid_value = lambda value: bool(_PAIR.fullmatch(str(value)))

    def clean(self):
        d = super().clean()
        if d.get("action") == "tag" and not d.get("tag"):
            self.add_error("tag", _("Choose the tag to add."))
        if d.get("action") == "assign" and not d.get("assignee"):
            self.add_error("assignee", _("Choose whom to assign to."))
        return d

    def versions(self) -> dict[int, int]:
        return {int(pk): int(version) for pk, version in (v.split(":") for v in self.cleaned_data["items"])}

    def assignee_user(self):
        choice = self.cleaned_data.get("assignee")
        return self.user if choice == "me" else self.agents.get(choice)


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name of the view"), max_length=80)
    query = forms.CharField(widget=forms.HiddenInput, max_length=1000, required=False)
    shared = forms.BooleanField(label=_("Share with the team"), required=False)


class ReplyForm(forms.Form):
    STATUS_AFTER = [("", _("Keep the status")), (FeedbackItem.Status.WAITING, _("Waiting on customer")),
                    (FeedbackItem.Status.RESOLVED, _("Resolved"))]

    text = forms.CharField(label=_("Reply to the customer"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    status = forms.ChoiceField(label=_("Then set the status to"), choices=STATUS_AFTER, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")  # the note box beside it is id_text
        super().__init__(*args, **kwargs)


class ManualItemForm(forms.Form):
    """An item an agent writes down: a call, a conversation in the showroom, a letter."""

    SOURCES = [(s, label) for s, label in FeedbackItem.Source.choices
               if s in ("call", "manual", "email", "chat", "social", "review")]

    source = forms.ChoiceField(label=_("Where it came from"), choices=SOURCES, initial=FeedbackItem.Source.CALL)
    text = forms.CharField(label=_("What the customer said"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    rating = forms.IntegerField(label=_("Rating, if they gave one (0–10)"), min_value=0, max_value=10, required=False)
    touchpoint = forms.ModelChoiceField(label=_("Touchpoint"), queryset=Touchpoint.objects.none(), required=False)
    customer_email = forms.EmailField(label=_("Customer's e-mail"), required=False)
    customer_phone = forms.CharField(label=_("Customer's phone"), max_length=40, required=False)
    customer_name = forms.CharField(label=_("Customer's name"), max_length=200, required=False)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["touchpoint"].queryset = scoped(Touchpoint, organization).filter(archived=False)

    def clean_text(self):
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Write down what the customer said."))
        return text

    def voice(self):
        from .services import Voice

        d = self.cleaned_data
        ref = {k: d[f"customer_{k}"] for k in ("email", "phone", "name") if d[f"customer_{k}"]}
        return Voice(source=d["source"], text=d["text"], rating=d["rating"], touchpoint=d["touchpoint"],
                     channel=d["touchpoint"].channel if d["touchpoint"] else None,
                     customer_ref=ref if set(ref) - {"name"} else None)


class CallForm(forms.Form):
    note = forms.CharField(label=_("What was said on the call"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    reached = forms.BooleanField(label=_("I reached the customer"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_call_%s")
        super().__init__(*args, **kwargs)


class CloseLoopForm(forms.Form):
    """Resolving a call-back case: why the customer was unhappy, what was done, and whether to ask
    them again."""

    root_cause = forms.ModelChoiceField(label=_("Why the customer was unhappy"), queryset=None)
    note = forms.CharField(label=_("What was done"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))
    follow_up = forms.BooleanField(label=_("Ask the customer the survey's question again by e-mail"),
                                   required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, organization, **kwargs):
        kwargs.setdefault("auto_id", "id_loop_%s")
        super().__init__(*args, **kwargs)
        from .models import RootCause

        self.fields["root_cause"].queryset = scoped(RootCause, organization).filter(active=True).select_related(
            "parent").order_by("parent__name", "name")
