"""The API's errors: one body for every 4xx, `{"error": {"code", "message", "fields"}}`.

`message` is in the caller's language (the locale middleware chose it from Accept-Language, the
session or the language cookie); `fields` ({field: [messages]}) comes only with validation errors.
Paths outside /api/ (the incoming webhooks under /hooks/) keep the `{"detail": …}` their senders
were documented.

Apart from `api_access` because DRF's views module cannot be imported while DRF loads the
default permission class from there.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from .input_checks import UNSTORABLE, first_text_problem
from .versioning import StaleEdit

API_PATH_PREFIX = "/api/"

# A code for each status when the exception names none of its own.
STATUS_CODES = {
    400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
    405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
    415: "unsupported_media_type", 429: "throttled",
}


class EditConflict(exceptions.APIException):
    status_code = 409
    default_code = "stale_version"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIX)


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = fields
    return {"error": error}


def error_response(*, status_code: int, message: str, code: str | None = None) -> JsonResponse:
    """The error shape for answers made outside DRF (middleware, Django's 404)."""
    return JsonResponse(error_body(code=code or STATUS_CODES.get(status_code, "error"), message=message),
                        status=status_code)


def exception_handler(exc, context):
    """DRF's handler, answering in the one error shape. An edit made on an old version (StaleEdit,
    from any service) is a 409. An error that echoes the input never carries a lone surrogate or a
    NUL into the answer (it could not be encoded)."""
    if isinstance(exc, StaleEdit):
        exc = EditConflict(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if first_text_problem(response.data):
        response.data = _printable(response.data)
    request = context.get("request")
    if request is not None and is_api_path(request.path) and 400 <= response.status_code < 500:
        response.data = _shaped(exc, response.status_code, response.data)
    return response


def _shaped(exc, status_code: int, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        return _validation_body(data)
    if isinstance(exc, Http404):
        return error_body(code="not_found", message=_("Not found."))
    if isinstance(exc, DjangoPermissionDenied):
        return error_body(code="permission_denied", message=_("You do not have permission to perform this action."))
    code = STATUS_CODES.get(status_code, "error")
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", code)
    message = data.get("detail") if isinstance(data, dict) else data
    if isinstance(message, list):
        message = " ".join(str(part) for part in message)
    if not isinstance(message, str) or not message:
        # A detail that is no text (a dict) still leaves a person something to read.
        message = getattr(exc, "default_detail", "") or _("The request was refused.")
    return error_body(code=code, message=str(message))


def _validation_body(data) -> dict:
    """A serializer's {field: [messages]} (or a bare list of messages, which belongs to no field)."""
    fields = dict(data) if isinstance(data, dict) else {"non_field_errors": data if isinstance(data, list) else [data]}
    general = fields.get("non_field_errors") or fields.get("detail")
    if isinstance(general, list) and general and isinstance(general[0], str):
        message = str(general[0])
        if set(fields) <= {"non_field_errors", "detail"} and len(general) == 1:
            fields = {"non_field_errors": [message]}
    else:
        message = _("Some fields are not valid: %(fields)s.") % {"fields": ", ".join(str(name) for name in fields)}
    return error_body(code="invalid", message=message, fields=fields)


def not_found(request, exception=None):
    """handler404: the API's shape under /api/ (an unknown route), the site's page elsewhere."""
    if is_api_path(request.path):
        return error_response(status_code=status.HTTP_404_NOT_FOUND, message=_("Not found."))
    return defaults.page_not_found(request, exception)


def _printable(data):
    if isinstance(data, str):
        return UNSTORABLE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {_printable(key): _printable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_printable(value) for value in data]
    return data


# --- The schema says it: every operation's 4xx answers have this body ---------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer of the API.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "What went wrong, for programs: invalid, parse_error, "
                         "not_authenticated, authentication_failed, permission_denied, not_found, "
                         "method_not_allowed, unsupported_media_type, stale_version, throttled …"},
                "message": {"type": "string", "description": "What went wrong, for people, in the caller's "
                            "language (Accept-Language)."},
                "fields": {"type": "object", "additionalProperties": {},
                           "description": "Validation errors only: {field: [messages]} (nested for nested data)."},
            },
        },
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
DOCUMENTED_STATUSES = {
    "400": "The request is not valid (validation errors carry `fields`), or its body cannot be parsed.",
    "401": "No credentials, or a token that is not valid, expired or revoked.",
    "403": "The caller's role or the token's scope does not allow it.",
    "404": "No such object in the caller's organization.",
    "405": "The method is not allowed here.",
    "409": "The object changed since the version sent.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: the Error component, and every API operation's 4xx
    answers pointing at it."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        if not is_api_path(path):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code in list(responses):
                if code.startswith("4"):
                    responses[code] = {**responses[code], "content": {"application/json": {"schema": ERROR_REF}}}
            for code, description in DOCUMENTED_STATUSES.items():
                responses.setdefault(code, {"description": description,
                                            "content": {"application/json": {"schema": ERROR_REF}}})
    return result
