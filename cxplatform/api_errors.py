"""The API's exception handler: DRF's, plus the platform's own refusals as HTTP answers.

Apart from `api_access` because DRF's views module cannot be imported while DRF loads the
default permission class from there.
"""

from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

from .versioning import StaleEdit


class EditConflict(APIException):
    status_code = 409
    default_code = "stale_version"


def exception_handler(exc, context):
    """An edit made on an old version (StaleEdit, from any service) is a 409."""
    if isinstance(exc, StaleEdit):
        exc = EditConflict(str(exc))
    return drf_exception_handler(exc, context)
