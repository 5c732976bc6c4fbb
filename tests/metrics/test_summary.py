"""One set of numbers everywhere: the summary API and `cx_metrics --json` agree, and both match
the formulas applied to the raw answers."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from cxplatform.models import Role
from metrics import definitions, formatting
from metrics.services import reconcile_recent
from surveys.services import count_open
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(org_a):
    nps_link = factories.distribution(org_a, factories.survey(org_a, "nps"))
    csat_link = factories.distribution(org_a, factories.survey(org_a, "csat"))
    other_tp = factories.distribution(org_a, nps_link.survey)
    scores = [10, 10, 9, 8, 7, 6, 3, 0, 9, 10]
    for s in scores:
        factories.response(org_a, nps_link, score=s)
    factories.response(org_a, nps_link, score=None, status="abandoned")  # left without the score: skipped
    for s in (5, 4, 2):
        factories.response(org_a, csat_link, score=s)
    factories.response(org_a, other_tp, score=0)
    old = factories.response(org_a, nps_link, score=0)
    old_moment = timezone.now() - timedelta(days=40)
    type(old).objects.filter(pk=old.pk).update(started_at=old_moment, submitted_at=old_moment)
    for _ in range(20):
        count_open(nps_link)
    reconcile_recent(days=60)
    return {"nps_link": nps_link, "csat_link": csat_link, "scores": scores}


def test_summary_matches_the_formulas_on_raw_answers(org_a, make_member, client_for, data):
    client = client_for(make_member(org_a, Role.VIEWER))
    link = data["nps_link"]
    body = client.get("/api/v1/metrics/summary/", {"touchpoint": link.touchpoint_id}).json()
    nps = body["metrics"]["nps"]
    expected = definitions.nps({s: data["scores"].count(s) for s in set(data["scores"])}, skipped=1)
    assert nps["value"] == definitions.shown("nps", expected.value) == 20  # 5 promoters, 3 detractors of 10
    assert (nps["n"], nps["skipped"], nps["small_sample"]) == (10, 1, True)
    assert nps["counts"] == {"promoters": 5, "passives": 2, "detractors": 3}
    assert nps["margin_of_error"] == definitions.shown("nps", expected.margin_of_error)
    assert nps["previous"]["n"] == 1  # the 40-day-old answer falls in the previous 30 days
    assert body["metrics"]["response_rate"]["counts"] == {"completed": 10, "opened": 20}
    everything = client.get("/api/v1/metrics/summary/").json()["metrics"]
    assert everything["nps"]["n"] == 11 and everything["csat"]["value"] == 67  # 66.67, in whole percent


def test_api_and_command_give_the_same_figures(org_a, make_member, client_for, data):
    client = client_for(make_member(org_a, Role.VIEWER))
    start = (timezone.now() - timedelta(days=60)).date().isoformat()
    end = timezone.now().date().isoformat()
    survey_id = data["nps_link"].survey_id
    api = client.get("/api/v1/metrics/summary/", {"from": start, "to": end, "survey": survey_id}).json()
    out = io.StringIO()
    call_command("cx_metrics", "--org", org_a.slug, "--survey", str(survey_id), "--from", start, "--to", end,
                 "--json", stdout=out)
    assert json.loads(out.getvalue()) == api
    assert api["metrics"]["nps"]["n"] == 12


def test_bad_filters_are_a_clear_400(org_a, org_b, make_member, client_for, data):
    client = client_for(make_member(org_a, Role.VIEWER))
    assert client.get("/api/v1/metrics/summary/", {"from": "2026-13-45"}).status_code == 400
    reversed_period = client.get("/api/v1/metrics/summary/", {"from": "2026-05-01", "to": "2026-04-01"})
    assert reversed_period.status_code == 400
    foreign = factories.survey(org_b)
    assert client.get("/api/v1/metrics/summary/", {"survey": foreign.pk}).status_code == 400
    with pytest.raises(Exception, match="organization"):
        call_command("cx_metrics", "--org", "nobody", "--json", stdout=io.StringIO())


def test_dashboard_shows_the_same_figures_as_the_api(org_a, make_member, client_for, data):
    client = client_for(make_member(org_a, Role.VIEWER))
    params = {"survey": data["nps_link"].survey_id}
    api = client.get("/api/v1/metrics/summary/", params).json()["metrics"]
    page = client.get("/", params).content.decode()
    for name in ("nps", "csat", "responses"):
        card = page.split(f'id="kpi-{name}"')[1].split("</article>")[0]
        value = api[name]["value"]
        if value is None:
            assert '<div class="value none">—' in card and "No data in this period." in card, name
        else:
            assert f'<div class="value">{formatting.figure(name, value)}<' in card, (name, value)
            assert f"n={api[name]['n']}" in card
