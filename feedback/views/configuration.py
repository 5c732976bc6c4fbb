"""The inbox's settings page: teams, routing rules, SLA policies, canned replies and webhooks,
each listed and edited through its form in `configuration.py`."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import ProtectedError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cxplatform.input_checks import int_or_none
from cxplatform.permissions import member_required
from cxplatform.tenancy import get_for_org_or_404
from cxplatform.versioning import StaleEdit

from ..configuration import BY_KIND, SECTIONS, delete_setting, save_setting


def _section(request, kind):
    section = BY_KIND[kind]
    if not request.membership.can(section.capability):
        raise PermissionDenied
    return section


def _object_id(kwargs) -> int:
    return next(value for key, value in kwargs.items() if key.endswith("_id"))


@member_required
@require_safe
def settings_index(request):
    sections = [s for s in SECTIONS if request.membership.can(s.capability)]
    if not sections:
        raise PermissionDenied
    return render(request, "feedback/settings.html", {
        "sections": [(s, s.headers(), s.rows(request.organization)) for s in sections],
    })


def _edit(request, section, instance=None):
    form = section.form(request.POST or None, instance=instance, organization=request.organization)
    status = 200
    if form.is_bound and form.is_valid():
        try:
            saved = save_setting(request=request, form=form)
        except StaleEdit:
            status = 409
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": saved})
            return redirect("feedback:settings")
    return render(request, "feedback/settings_form.html", {"section": section, "form": form, "object": instance},
                  status=400 if status == 200 and form.errors else status)


@member_required
@require_http_methods(["GET", "POST"])
def settings_create(request, kind):
    return _edit(request, _section(request, kind))


@member_required
@require_http_methods(["GET", "POST"])
def settings_edit(request, kind, **ids):
    section = _section(request, kind)
    return _edit(request, section, get_for_org_or_404(section.model, request.organization, pk=_object_id(ids)))


@member_required
@require_POST
def settings_delete(request, kind, **ids):
    section = _section(request, kind)
    obj = get_for_org_or_404(section.model, request.organization, pk=_object_id(ids))
    try:
        delete_setting(request=request, instance=obj)
    except ProtectedError:
        messages.error(request, _("“%(name)s” is still in use, so it was kept.") % {"name": obj})
    else:
        messages.success(request, _("“%(name)s” is deleted.") % {"name": obj})
    return redirect("feedback:settings")


@member_required
@require_POST
def loop_rule_apply(request, closelooprule_id):
    """Run a close-loop rule over the last days' answers, on purpose (a rule never does by itself)."""
    from .. import loop

    section = _section(request, "loop")
    rule = get_for_org_or_404(section.model, request.organization, pk=closelooprule_id)
    days = int_or_none(request.POST.get("days"), low=1, high=365)
    if days is None:
        messages.error(request, _("Say how many days back to look: from 1 to 365."))
    else:
        done = loop.apply_rule(rule, days)
        messages.success(request, _("“%(rule)s” applied to the last %(days)d days: %(n)d new.") % {
            "rule": rule, "days": days, "n": done})
    return redirect("feedback:settings_loop_edit", closelooprule_id=rule.pk)
