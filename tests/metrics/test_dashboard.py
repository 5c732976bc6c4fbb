import pytest

from cxplatform.models import Role
from metrics.services import reconcile_recent
from tests import factories

pytestmark = pytest.mark.django_db


def test_dashboard_shows_kpis_with_plain_explanations(org_a, make_member, client_for):
    link = factories.distribution(org_a)
    for score in (10, 9, 2):
        factories.response(org_a, link, score=score)
    reconcile_recent(days=2)
    page = client_for(make_member(org_a, Role.VIEWER)).get("/")
    body = page.content.decode()
    assert page.status_code == 200
    kpi = body.split('id="kpi-nps"')[1].split("</article>")[0]
    assert '<div class="value">33<' in kpi and "n=3" in kpi and "small sample" in kpi
    assert "How many customers would recommend us" in body  # what NPS means, in plain words
    assert 'id="chart-trend"' in body


def test_dashboard_filter_errors_are_clear(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    page = client.get("/", {"from": "2026-05-01", "to": "2026-01-01"})
    assert page.status_code == 400
    assert "must not be after its end" in page.content.decode()


def test_dashboard_answers_htmx_with_the_fragment_only(org_a, make_member, client_for):
    client = client_for(make_member(org_a, Role.VIEWER))
    fragment = client.get("/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="kpi-nps"' in fragment and "<html" not in fragment
