"""schemathesis against the served OpenAPI schema, as a real user of the API: an administrator of
an organization with some data calls every operation with a few generated requests (bounded, and
derandomized so a failure repeats). No answer may be a 5xx, and every answer must be one the
schema documents: its status, its content type and its body.

In-process (the WSGI app on pytest-django's database), so it runs in `make test`.
"""

import os
import re
import time

import pytest
import schemathesis
import werkzeug.test
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cxplatform.models import Role
from tests import factories

pytestmark = [pytest.mark.django_db]

EXAMPLES_PER_OPERATION = 3
# Writes last, deletions at the very end: the generated deletions would otherwise remove the
# rows the later operations are given to read.
METHOD_ORDER = {"GET": 0, "HEAD": 0, "POST": 1, "PUT": 2, "PATCH": 2, "DELETE": 3}
ID_IN_PATH = re.compile(r"^(?P<collection>/api/v1/.+/)\{(?P<name>[a-z_]*id)\}/")


@pytest.fixture
def wsgi_app():
    """The project's WSGI app, on the test's connection: as Django's test client does, requests do
    not close the connection, which holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _some_data(org):
    """A little of everything, so reads find rows and writes meet the rules of real ones."""
    survey = factories.survey(org)
    factories.question(org, survey_obj=survey, kind="single_choice",
                       choices=[{"value": "price", "label": {"en": "Price"}}])
    distribution = factories.distribution(org, survey_obj=survey)
    factories.response(org, distribution_obj=distribution)
    factories.retention_offer(org)
    factories.import_job(org, survey_obj=survey)
    for make in (factories.customer, factories.customer_import_job, factories.touchpoint, factories.pain_point,
                 factories.opportunity, factories.feedback_item, factories.tag, factories.team,
                 factories.routing_rule, factories.sla_policy, factories.canned_reply, factories.webhook_endpoint,
                 factories.saved_view, factories.root_cause, factories.feedback_import_job,
                 factories.close_loop_rule, factories.notification, factories.goal, factories.action_item,
                 factories.audience, factories.campaign, factories.trigger_rule, factories.suppression):
        make(org)


def _http_headers(django_headers: dict) -> dict:
    """The test client's keyword form (HTTP_X_ORGANIZATION) as HTTP header names."""
    return {key.removeprefix("HTTP_").replace("_", "-").title(): value for key, value in django_headers.items()}


def _documented_status(ctx, response, case):
    """Until the schema documents the API's 4xx answers on every operation (the error body's part of
    issue 16), at least every other status must be documented (a 200 where only 204 is, a 500)."""
    if 400 <= response.status_code < 500:
        return None
    return status_code_conformance(ctx, response, case)


def _describe(label: str, exc: BaseException) -> str:
    found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
    lines = [f"{label}:"] + [f"  - {getattr(one, 'title', type(one).__name__)}: {getattr(one, 'message', one)}"
                             .replace("\n", "\n    ") for one in found]
    return "\n".join(lines + [f"    {note}" for note in getattr(exc, "__notes__", [])])


def _known_ids(client, headers, collection: str) -> list[int]:
    answer = client.get(collection, headers=headers)
    if answer.status_code != 200:
        return []
    body = answer.json
    rows = body.get("results", body) if isinstance(body, dict) else body
    return [row["id"] for row in rows if isinstance(row, dict) and isinstance(row.get("id"), int)][:5]


def _operation_test(operation, ids: list[int], id_name: str, headers: dict, checks: list):
    """A bounded, reproducible hypothesis test of one operation; its path id, when the collection has
    rows, is sometimes one of them (a random id only ever finds nothing)."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), real_id=st.sampled_from(ids) if ids else st.none())
    def call(case, real_id):
        if real_id is not None:
            case.path_parameters = {**(case.path_parameters or {}), id_name: real_id}
        case.call_and_validate(headers=headers, checks=checks)

    return call


def test_every_operation_answers_as_its_schema_says(org_a, make_member, api_headers, wsgi_app):
    admin = make_member(org_a, Role.ADMIN)
    _some_data(org_a)
    headers = _http_headers(api_headers(admin, org_a))
    app = wsgi_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", app, headers=headers)
    raw = schema.raw_schema
    errors_documented = all(any(code.startswith("4") for code in op.get("responses", {}))
                            for path in raw["paths"].values() for op in path.values() if isinstance(op, dict))
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance,
              status_code_conformance if errors_documented else _documented_status]

    client = werkzeug.test.Client(app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (METHOD_ORDER.get(op.method.upper(), 1), op.path))
    assert len(operations) > 100, "the schema lost its operations"
    only = os.environ.get("SCHEMATHESIS_ONLY")  # a regex of labels, while fixing one operation
    operations = [op for op in operations if not only or re.search(only, op.label)]
    failures, started = [], time.process_time()
    for operation in operations:
        found = ID_IN_PATH.match(operation.path)
        ids = _known_ids(client, headers, found["collection"]) if found else []
        id_name = found["name"] if found else ""

        call = _operation_test(operation, ids, id_name, headers, checks)
        try:
            call()
        except (Exception, FailureGroup) as exc:  # every operation's failures in one report
            failures.append(_describe(operation.label, exc))
    # CPU time, not wall time: the app runs in this process, and a busy machine must not fail the test.
    spent = time.process_time() - started
    assert not failures, f"{len(failures)} operations answered outside their schema:\n\n" + "\n\n".join(failures)
    assert spent < 120, f"schemathesis took {spent:.0f} s of CPU: lower EXAMPLES_PER_OPERATION"
