"""The Content-Security-Policy's two exceptions to the rule (ADR 0009).

- `embeddable`: pages customers put in an iframe on their own sites (the public survey pages)
  may be framed by the sites in `SURVEY_FRAME_ANCESTORS`; every other page by none.
- `csp_report`: where browsers send what the policy blocked, so a script we forgot to move out
  of a template shows up in the logs instead of as a chart that silently never draws.
"""

import json
import logging
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import ratelimit

logger = logging.getLogger("cxplatform.csp")

# A real report is well under a kilobyte; anything much larger is not one.
MAX_REPORT_BYTES = 16 * 1024
# A Reporting API batch may hold several reports; more than this is noise.
MAX_REPORTS_PER_REQUEST = 20
MAX_FIELD_CHARS = 300
REPORT_CONTENT_TYPES = {"application/csp-report", "application/reports+json", "application/json"}

# (report-uri's field, Reporting API's field) → the name logged.
FIELDS = {
    "document": ("document-uri", "documentURL"),
    "directive": ("effective-directive", "effectiveDirective"),
    "blocked": ("blocked-uri", "blockedURL"),
    "source": ("source-file", "sourceFile"),
    "line": ("line-number", "lineNumber"),
    "sample": ("script-sample", "sample"),
}


def embeddable(view):
    """Frameable by the customers' sites: no X-Frame-Options, and frame-ancestors from the
    settings, read per request so a deployment (or a test) can change them."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        policy = {"frame-ancestors": list(settings.SURVEY_FRAME_ANCESTORS)}
        return csp_replace(policy)(view)(request, *args, **kwargs)

    return xframe_options_exempt(wrapped)


@csrf_exempt  # browsers send reports without our cookies' CSRF token, from any page
@require_POST
def csp_report(request):
    """Logs each violation a browser reports, in either format browsers send (report-uri's
    `application/csp-report`, the Reporting API's `application/reports+json`).

    Anyone can post here, so the answer is 204 whatever arrives: oversized, malformed or
    foreign bodies are dropped without a 500, what is logged is cut short, and past the rate
    limits (per client address, and from everyone together) nothing is logged, so a flood of
    reports can neither fill the logs nor bury a real one under its own.
    """
    if request.content_type not in REPORT_CONTENT_TYPES or not _within_limits(request):
        return HttpResponse(status=204)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        # read() rather than .body: .body would answer 400 past DATA_UPLOAD_MAX_MEMORY_SIZE.
        body = request.read(MAX_REPORT_BYTES + 1) if 0 < declared <= MAX_REPORT_BYTES else b""
        if not body or len(body) > MAX_REPORT_BYTES:
            return HttpResponse(status=204)
        for report in _violations(json.loads(body))[:MAX_REPORTS_PER_REQUEST]:
            logger.warning("CSP violation: %(directive)r blocked %(blocked)r on %(document)r "
                           "(%(source)r line %(line)r, sample %(sample)r)", report)
    except (ValueError, TypeError, AttributeError, OSError):
        # Not JSON, not the shape of a report, or the client went away mid-body.
        pass
    return HttpResponse(status=204)


def _within_limits(request) -> bool:
    """Within the client's own limit first, and only then counted against everyone's: a client
    past its limit uses up nobody else's reports."""
    window = settings.RATE_LIMIT_WINDOW_SECONDS
    client = ratelimit.client_key(request)
    return (ratelimit.hit(f"csp-report:ip:{client}", settings.CSP_REPORTS_PER_IP, window)
            and ratelimit.hit("csp-report:all", settings.CSP_REPORTS_IN_ALL, window))


def _violations(payload):
    """The reports in `payload`, each reduced to FIELDS with short string values."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        raw, pick = [payload["csp-report"]], 0
    elif isinstance(payload, list):
        raw = [r["body"] for r in payload
               if isinstance(r, dict) and r.get("type") == "csp-violation" and isinstance(r.get("body"), dict)]
        pick = 1
    else:
        return []
    return [{name: str(report.get(keys[pick], ""))[:MAX_FIELD_CHARS] for name, keys in FIELDS.items()}
            for report in raw]
