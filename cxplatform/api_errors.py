"""The API's exception handler: DRF's, plus the platform's own refusals as HTTP answers.

Apart from `api_access` because DRF's views module cannot be imported while DRF loads the
default permission class from there.
"""

from rest_framework.exceptions import APIException
from rest_framework.views import exception_handler as drf_exception_handler

from .input_checks import UNSTORABLE, first_text_problem
from .versioning import StaleEdit


class EditConflict(APIException):
    status_code = 409
    default_code = "stale_version"


def exception_handler(exc, context):
    """An edit made on an old version (StaleEdit, from any service) is a 409. An error that echoes
    the input never carries a lone surrogate or a NUL into the answer (it could not be encoded)."""
    if isinstance(exc, StaleEdit):
        exc = EditConflict(str(exc))
    response = drf_exception_handler(exc, context)
    if response is not None and first_text_problem(response.data):
        response.data = _printable(response.data)
    return response


def _printable(data):
    if isinstance(data, str):
        return UNSTORABLE.sub("\ufffd", data)
    if isinstance(data, dict):
        return {_printable(key): _printable(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_printable(value) for value in data]
    return data
