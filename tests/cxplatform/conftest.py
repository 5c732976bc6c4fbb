import pytest

from cxplatform import events


@pytest.fixture
def declared():
    """Declare test events for one test and forget them, their subscribers and lanes after."""
    names = []

    def declare(name, **kwargs):
        names.append(name)
        return events.declare(name, **kwargs)

    yield declare
    for name in names:
        for key in events.subscribers_of(name):
            events.unsubscribe(name, key)
        events._types.pop(name, None)
        events._subscribers.pop(name, None)
