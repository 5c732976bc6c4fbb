"""/metrics/themes/settings/: an organization's comment themes, to rename, merge and hide (and
undo each), for those who shape its figures (admins and CX managers)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from cxplatform.models import Capability, ThemeSetting
from cxplatform.permissions import capability_required

from . import theme_selectors, theme_services

ACTIONS = {
    "rename": lambda org, data, request: theme_services.rename_theme(
        organization=org, theme=data["theme"], label=data["label"], request=request),
    "merge": lambda org, data, request: theme_services.merge_theme(
        organization=org, theme=data["theme"], into=data["into"], request=request),
    "unmerge": lambda org, data, request: theme_services.unmerge_theme(
        organization=org, theme=data["theme"], request=request),
    "hide": lambda org, data, request: theme_services.set_theme_hidden(
        organization=org, theme=data["theme"], hidden=True, request=request),
    "unhide": lambda org, data, request: theme_services.set_theme_hidden(
        organization=org, theme=data["theme"], hidden=False, request=request),
}


class ThemeEditForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])
    theme = forms.CharField(max_length=ThemeSetting.MAX_LENGTH, strip=True,
                            error_messages={"required": gettext_lazy("Choose a theme.")})
    # Longer input than a name may be reaches the service, which refuses it with its own message.
    label = forms.CharField(required=False, max_length=1000, strip=True)
    into = forms.CharField(required=False, max_length=1000, strip=True)


@capability_required(Capability.DESIGN)
@require_http_methods(["GET", "HEAD", "POST"])
def theme_settings(request):
    organization = request.organization
    error, status = "", 200
    if request.method == "POST":
        form = ThemeEditForm(request.POST)
        if not form.is_valid():
            error = next(iter(e for errors in form.errors.values() for e in errors))
            status = 422
        else:
            try:
                ACTIONS[form.cleaned_data["action"]](organization, form.cleaned_data, request)
            except theme_services.ThemeEditRefused as refused:
                error, status = refused.message, 422
            else:
                if not request.htmx:
                    messages.success(request, _("Themes saved. Figures show them so from now on."))
                    return redirect("metrics:theme_settings")
    language = (get_language() or "en")[:2]
    rows = theme_selectors.theme_rows(organization, language)
    context = {"rows": rows, "targets": theme_selectors.merge_targets(rows, language, organization),
               "error": error, "saved": request.method == "POST" and not error,
               "max_length": ThemeSetting.MAX_LENGTH}
    template = "metrics/theme_settings.htmx.html" if request.htmx else "metrics/theme_settings.html"
    return render(request, template, context, status=status)
