"""The audit log page (/settings/audit/) and its CSV export: the organization's entries, newest
first, read page by page along the (organization, created_at) index — a log of millions of rows
is never counted, only walked from a cursor."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import audit
from .audit_filters import AuditFilter
from .models import AuditEntry, Capability
from .permissions import capability_required
from .selectors import more_rows_than
from .tabular import neutralise

PAGE_SIZE = 50
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EXPORT_CHUNK = 2000
CURSOR = re.compile(r"(\d{1,20})-(\d{1,20})")
CSV_COLUMNS = ["when", "who", "action", "what", "details", "on_what", "target_type", "target_id", "ip_address",
               "user_agent", "token_id"]


def entries_of(organization):
    """The organization's entries only: sign-in failures of unknown names (no organization) are
    nobody's to read here."""
    return AuditEntry.objects.for_org(organization).order_by("-created_at", "-id")


def _cursor(value: str):
    """(created_at, id) of the last entry shown, from "<microseconds since 1970>-<id>"."""
    match = CURSOR.fullmatch(value or "")
    if not match:
        return None
    try:  # whole microseconds: a float would move the cursor off its entry
        moment = EPOCH + timedelta(microseconds=int(match[1]))
    except OverflowError:
        return None
    return moment, int(match[2])


def _cursor_of(entry) -> str:
    return f"{(entry.created_at - EPOCH) // timedelta(microseconds=1)}-{entry.pk}"


def _after(queryset, moment, pk):
    """The entries after (older than) the one at (moment, pk), in the page's order."""
    return queryset.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=pk))


def _zone(organization):
    try:
        return ZoneInfo(organization.time_zone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def short_agent(agent: str) -> str:
    """"Firefox on Windows" rather than a 200-character User-Agent (the whole one is kept)."""
    if not agent:
        return ""
    browser = next((name for token, name in (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
                                             ("Chrome/", "Chrome"), ("Safari/", "Safari"), ("curl/", "curl"),
                                             ("python-requests", "Python")) if token in agent), None)
    system = next((name for token, name in (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"),
                                            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux"))
                   if token in agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or (agent[:40] + "…" if len(agent) > 40 else agent)


def _rows(entries):
    return [{"entry": entry, "label": _label(entry.action), "details": audit.describe(entry),
             "agent": short_agent(entry.user_agent)} for entry in entries]


def _label(action: str) -> str:
    return str(audit.AuditAction(action).label) if action in audit.AuditAction.values else action


@capability_required(Capability.ADMINISTER)
@require_safe
def audit_log(request):
    filterset = AuditFilter(request.GET, queryset=entries_of(request.organization), request=request)
    raw_cursor = request.GET.get("after", "")
    cursor = _cursor(raw_cursor) if raw_cursor else None
    context = {"form": filterset.form, "rows": None, "next_cursor": None, "first_page": not raw_cursor,
               "export_url": reverse("audit:export")}
    status = 200
    if raw_cursor and cursor is None:
        context["cursor_error"] = _("This page link is damaged; start again from the newest entries.")
        status = 400
    elif filterset.is_valid():
        queryset = filterset.qs
        if cursor is not None:
            queryset = _after(queryset, *cursor)
        entries = list(queryset[:PAGE_SIZE + 1])
        context["rows"] = _rows(entries[:PAGE_SIZE])
        if len(entries) > PAGE_SIZE:
            context["next_cursor"] = _cursor_of(entries[PAGE_SIZE - 1])
    else:
        status = 400
    with timezone.override(_zone(request.organization)):
        return render(request, "audit/log.html", context, status=status)


@capability_required(Capability.ADMINISTER)
@require_safe
def audit_export(request):
    """The filtered entries as CSV, streamed chunk by chunk along the index; the export itself is
    an entry of the log."""
    filterset = AuditFilter(request.GET, queryset=entries_of(request.organization), request=request)
    if not filterset.is_valid():
        with timezone.override(_zone(request.organization)):
            return render(request, "audit/log.html", {"form": filterset.form, "rows": None,
                                                      "export_url": reverse("audit:export")}, status=400)
    zone = _zone(request.organization)
    name = f"audit-log-{request.organization.slug}-{timezone.now().astimezone(zone):%Y%m%d-%H%M}.csv"
    if request.method == "HEAD":  # a look at the headers (a link checker, a prefetch): no export, no message
        response = StreamingHttpResponse(iter(()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    limit = settings.AUDIT_EXPORT_MAX_ROWS
    if more_rows_than(filterset.qs, limit):
        # Streamed, it could outlast the web worker's timeout and end short with a 200: never a
        # short file served as complete. The page says how to get it whole, in parts.
        messages.error(request, _("These are more than %(limit)s entries, too many for one file: narrow the dates "
                                  "and export each part.") % {"limit": number_format(limit, force_grouping=True)})
        return redirect(f"{reverse('audit:log')}?{request.GET.urlencode()}")
    query = {key: value for key, value in filterset.form.cleaned_data.items() if value not in (None, "")}
    audit.record(action=audit.AuditAction.AUDIT_EXPORTED, organization=request.organization, request=request,
                 details={"filters": {key: str(value) for key, value in query.items()}})
    language = translation.get_language()
    queryset = filterset.qs

    def lines():
        # The body is written after the view returns: the reader's language and zone go with it.
        with translation.override(language), timezone.override(zone):
            yield "\ufeff"
            yield _csv_text([CSV_COLUMNS])
            chunk = list(queryset[:EXPORT_CHUNK])
            while chunk:
                yield _csv_text([_csv_row(entry, zone) for entry in chunk])
                if len(chunk) < EXPORT_CHUNK:
                    break
                last = chunk[-1]
                chunk = list(_after(queryset, last.created_at, last.pk)[:EXPORT_CHUNK])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _csv_row(entry, zone) -> list:
    cells = [entry.created_at.astimezone(zone).isoformat(), entry.actor_label, entry.action, _label(entry.action),
             "; ".join(audit.describe(entry)), entry.target_label, entry.target_type, entry.target_id,
             entry.ip_address or "", entry.user_agent, entry.token_id or ""]
    return [neutralise(cell) for cell in cells]


def _csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
