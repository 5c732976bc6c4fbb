import pytest

from integrations import services
from integrations.models import WebhookEvent
from surveys.services import RESPONSE_RECORDED
from tests import factories

from .receiver import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as running:
        yield running


@pytest.fixture
def subscribe(receiver):
    """A subscription of `org` to `events` (all by default) at the running receiver, whose secret
    the receiver is given."""

    def make(org, events=None, **fields):
        subscription, secret = services.create_subscription(
            organization=org, request=None, url=fields.pop("url", receiver.url),
            events_wanted=events or list(WebhookEvent.values), **fields)
        receiver.secret = secret
        return subscription

    return make


@pytest.fixture
def answer_recorded(django_capture_on_commit_callbacks):
    """A final answer of `org`, its `response.recorded` emitted and everything after the commit run
    (in-process tasks: the outbox event, the fan-out, the call)."""
    from cxplatform import events

    def make(org, **fields):
        response = factories.response(org, **fields)
        with django_capture_on_commit_callbacks(execute=True):
            event = events.emit(RESPONSE_RECORDED, organization=org, response_id=response.pk)
        return response, event

    return make
