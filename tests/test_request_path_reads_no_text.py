"""The request path never calls the text model (issue 18, docs/adr/0021): with the reader and the
classifier broken wherever they are imported, a customer answers with a comment on the public page,
items arrive through the API, the webhook and the manual form, a source edits an item's text, and
an agent triages and notes an item — all succeed. Then the workers deliver the outbox with the real
reader, and every comment and item has its sentiment and themes."""

import contextlib
import json
import sys
import time
import uuid
from unittest import mock

import pytest
from django.test import Client

from cxplatform import events
from cxplatform.models import OutboxEvent, Role
from cxplatform.textinsight import reading, sentiment
from feedback import webhooks
from feedback.models import FeedbackItem, ItemTheme
from surveys import links
from surveys.models import Response, ResponseTheme
from tests import factories
from tests.respondent import thanked

pytestmark = pytest.mark.django_db

ANGRY = "Курьер опоздал на три часа, ужасный сервис"
APP = "The app is awful, it keeps crashing"
REVIEW = "Доставка быстрая, но приложение постоянно падает"
EDITED = "Ремонт занял почти месяц, никто не отвечает, ужасно"


@contextlib.contextmanager
def model_broken():
    """`reading.read` and `sentiment.classify` raise wherever a module holds them."""
    originals = (reading.read, sentiment.classify)
    broken = mock.Mock(side_effect=AssertionError("the text model was called in a request"))
    patched = set()
    with contextlib.ExitStack() as stack:
        for name, module in list(sys.modules.items()):
            try:
                attributes = list(vars(module).items())
            except TypeError:
                continue
            for attribute, value in attributes:
                if any(value is original for original in originals):
                    stack.enter_context(mock.patch.object(module, attribute, broken))
                    patched.add(f"{name}.{attribute}")
        # The guard of the test itself: the apps' own references are among those broken.
        assert {"cxplatform.textinsight.reading.read", "cxplatform.textinsight.sentiment.classify",
                "cxplatform.textinsight.reading.classify", "surveys.comments.read",
                "feedback.services.read"} <= patched, patched
        yield broken


def deliver_everything():
    """The workers: every pending event (and those their handlers emit) delivered, oldest first."""
    for _round in range(10):
        pending = list(OutboxEvent.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True))
        if not pending:
            return
        for pk in pending:
            events.deliver(pk)
    raise AssertionError("events kept coming")


def test_no_request_reads_text_and_the_workers_read_it_all(org_a, make_member, client_for):
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    agent = make_member(org_a, Role.AGENT)
    api = client_for(agent)
    endpoint = webhooks.create_endpoint(org_a, "Reviews", FeedbackItem.Source.REVIEW, signed=False)
    token = str(uuid.uuid4())
    triaged = factories.feedback_item(org_a, text="Old item, read long ago", text_read=True)

    with model_broken() as broken:
        # (a) A customer answers with a comment on the public page.
        page = Client().post(links.survey_url(link), {"token": token, "c": "", "score": "3", "comment": ANGRY})
        assert thanked(page)
        # (b) Items arrive: the API, a webhook, the agent's form; then the source edits one.
        made = api.post("/api/v1/feedback/items/", {"source": "email", "source_id": "m-1", "text": APP,
                                                    "language": "en"}, content_type="application/json")
        assert made.status_code == 201, made.content
        hook = Client().post(f"/hooks/feedback/{endpoint.key}/",
                             json.dumps({"text": REVIEW, "source_id": "r-1"}).encode(),
                             content_type="application/json", HTTP_X_CX_TIMESTAMP=str(int(time.time())),
                             HTTP_X_CX_DELIVERY=uuid.uuid4().hex)
        assert hook.status_code == 201, hook.content
        manual = api.post("/inbox/items/new/", {"source": "call", "text": ANGRY, "rating": 2})
        assert manual.status_code == 302
        edited = api.post("/api/v1/feedback/items/", {"source": "email", "source_id": "m-1", "text": EDITED,
                                                      "language": "ru"}, content_type="application/json")
        assert edited.status_code == 200, edited.content
        # (c) An agent works an item without changing its text.
        triage = api.post(f"/inbox/items/{triaged.pk}/triage/", {"status": "open", "priority": 2,
                                                                  "version": triaged.version})
        assert triage.status_code == 302
        assert api.post(f"/inbox/items/{triaged.pk}/notes/", {"text": "Called back"}).status_code == 302
        assert api.get(f"/inbox/items/{triaged.pk}/").status_code == 200
        assert api.get("/inbox/").status_code == 200
        assert broken.call_count == 0

    response = Response.objects.get(token=token)
    items = list(FeedbackItem.objects.filter(organization=org_a).exclude(pk=triaged.pk))
    assert len(items) == 3 and response.sentiment is None and not response.comment_read
    assert all(item.sentiment is None and not item.text_read for item in items)
    triaged.refresh_from_db()
    assert (triaged.status, triaged.priority, triaged.text_read) == ("open", 2, True)

    deliver_everything()  # the workers, with the real reader

    response.refresh_from_db()
    assert response.comment_read and response.sentiment == -1
    assert ResponseTheme.objects.filter(response=response).exists()
    survey_item = FeedbackItem.objects.get(response=response)  # the comment's item, made by a worker
    texts = {}
    for item in [*items, survey_item]:
        item.refresh_from_db()
        texts[item.text] = item
        expected = reading.read(item.text, item.language)
        assert item.text_read and item.sentiment == expected.sentiment.value, item.text
        assert dict(ItemTheme.objects.filter(item=item).values_list("key", "sentiment")) \
            == expected.theme_sentiments(), item.text
    assert set(texts) == {EDITED, REVIEW, ANGRY}  # the edited text is the one read
    assert texts[EDITED].sentiment == -1 and texts[EDITED].language == "ru"
    assert not ItemTheme.objects.filter(item=triaged).exists()  # its text never changed: nothing to read
