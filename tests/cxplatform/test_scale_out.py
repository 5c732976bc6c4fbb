"""Scale-out on existing engines: two gunicorn processes and two Celery workers on RabbitMQ
against one PostgreSQL. Customers answer through both web processes at once; every answer is
counted once, every unhappy customer gets one case, and the figures equal a rebuild."""

import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import pytest

from cxplatform.models import EventDelivery
from feedback.models import CloseLoopRule, FeedbackItem
from metrics.models import DailyRollup, DirtyDay
from surveys import links
from surveys.models import Response
from tests import factories
from tests.metrics.test_rollups import from_scratch
from tests.workers import celery_worker, rabbitmq_vhost, using_broker, wait_until, web_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

ANSWERS = 60


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def answer(url: str, fields: dict) -> str:
    """"thanked" when the reply is the thank-you page (docs/adr/0011), else the status."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with opener.open(request, timeout=60) as response:
            body = response.read()
            return "thanked" if response.status == 200 and b'name="visit-address"' in body and b"/thanks/" in body \
                else str(response.status)
    except urllib.error.HTTPError as error:  # a refusal, or a redirect nobody follows here
        return str(error.code)


def test_two_web_processes_and_two_workers_on_rabbitmq(tmp_path, org_a):
    CloseLoopRule.objects.create(organization=org_a, name="Call back detractors", band="unhappy")
    link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    customers = [factories.customer(org_a) for _ in range(ANSWERS)]
    scores = [n % 11 for n in range(ANSWERS)]

    with rabbitmq_vhost() as amqp, using_broker(amqp), ExitStack() as stack:
        webs = [stack.enter_context(web_server(amqp, tmp_path / f"web{n}.log")) for n in (1, 2)]
        for n in (1, 2):
            stack.enter_context(celery_worker(amqp, tmp_path / f"worker{n}.log", name=f"w{n}"))

        def one(n):
            signed = links.sign(link, customers[n])
            url = webs[n % 2] + links.survey_url(link, signed)
            return answer(url, {"token": str(uuid.uuid4()), "score": str(scores[n]),
                                "comment": f"answer {n}", "c": signed})

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(one, range(ANSWERS)))
        assert statuses == ["thanked"] * ANSWERS, statuses

        def settled():
            return (Response.objects.count() == ANSWERS and not DirtyDay.objects.exists()
                    and EventDelivery.objects.exists()
                    and not EventDelivery.objects.exclude(status=EventDelivery.Status.DELIVERED).exists())

        if not wait_until(settled, timeout=120):
            # What is left undone, and each process's warnings and errors (a tail alone hid them).
            logs = [line for kind in ("web", "worker") for n in (1, 2)
                    for line in (tmp_path / f"{kind}{n}.log").read_text().splitlines()
                    if "WARNING" in line or "ERROR" in line or "Error" in line][-40:]
            state = {"answers": Response.objects.count(),
                     "marks": list(DirtyDay.objects.values_list("day", "marked_at")),
                     "deliveries": list(EventDelivery.objects.exclude(status=EventDelivery.Status.DELIVERED)
                                        .values_list("subscriber", "status", "attempts", "last_error")[:20])}
            pytest.fail(f"the work did not settle: {state}\n" + "\n".join(logs))

    # Our own workers never deadlock (docs/adr/0035): a deadlock cost a case a back-off, and would
    # be run again at once now, so only the log tells.
    conflicts = [line for n in (1, 2) for line in (tmp_path / f"worker{n}.log").read_text().splitlines()
                 if "deadlock detected" in line or "met a conflict" in line]
    assert not conflicts, conflicts
    # Each answer once, each through the web process it was sent to.
    assert Response.objects.filter(organization=org_a).count() == ANSWERS
    assert Response.objects.values("customer").distinct().count() == ANSWERS
    # Each answer's comment is one item; each detractor (0–6) one case, opened once.
    assert FeedbackItem.objects.filter(organization=org_a).count() == ANSWERS
    detractors = sum(score <= 6 for score in scores)
    cases = FeedbackItem.objects.filter(organization=org_a, kind="case")
    assert cases.count() == detractors
    assert cases.values("response").distinct().count() == detractors
    # Both workers took part, and the figures equal a rebuild from raw answers.
    for n in (1, 2):
        assert "cxplatform.tasks.deliver_event" in (tmp_path / f"worker{n}.log").read_text()
    assert sum(r.responses for r in DailyRollup.objects.filter(organization=org_a)) == ANSWERS
    before, expected = from_scratch(org_a)
    assert before == expected
