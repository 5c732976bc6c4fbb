"""Every screen agrees: on the demo organization, each figure the dashboard, the executive summary,
the frontline view, a journey map, the survey list, a goal's page, the API and `cx_metrics` show is
computed here again from the raw answers with `metrics/definitions.py` alone — no rollup, no
selector — and must read the same to the displayed precision (`metrics.formatting`)."""

import io
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from actions.models import Goal
from cxplatform.demo import DEMO_SLUG, load_demo
from cxplatform.models import Membership, Organization, Role
from feedback.loop import FOLLOW_UP_FIELD
from journeys.models import JourneyMap
from metrics import definitions, formatting
from surveys.models import Answer, Question, Response, Survey, SurveyType

pytestmark = [pytest.mark.django_db]

METRIC_TYPE = {"nps": SurveyType.NPS, "csat": SurveyType.CSAT, "ces": SurveyType.CES, "csi": SurveyType.CSI}


def counted(organization, start, end, **where):
    """The answers a figure counts, read straight from the table: final (not in progress), not a
    closed-loop follow-up, given in [start, end]."""
    lo, hi = datetime.combine(start, time.min, UTC), datetime.combine(end + timedelta(days=1), time.min, UTC)
    rows = (Response.objects.filter(organization=organization, **where).exclude(status=Response.Status.STARTED)
            .exclude(hidden_fields__has_key=FOLLOW_UP_FIELD).select_related("survey"))
    return [r for r in rows if lo <= (r.submitted_at or r.started_at) < hi]


def raw_figure(metric: str, answers) -> definitions.Figure:
    of_type = [r for r in answers if r.survey.survey_type == METRIC_TYPE[metric]]
    if metric != "csi":
        scores = Counter(r.score for r in of_type if r.score is not None)
        return getattr(definitions, metric)(scores, skipped=sum(r.score is None for r in of_type))
    attributes = defaultdict(definitions.AttributeSums)
    rated = set()
    for a in Answer.objects.filter(response__in=[r.pk for r in of_type], number__isnull=False,
                                   question__kind=Question.Kind.CSI_ATTRIBUTE).select_related("question"):
        sums = attributes[a.question.key]
        sums.n, sums.score_sum = sums.n + 1, sums.score_sum + a.number
        if a.importance is not None:
            sums.importance_n, sums.importance_sum = sums.importance_n + 1, sums.importance_sum + a.importance
        rated.add(a.response_id)
    return definitions.csi(attributes, responses=len(rated), skipped=len(of_type) - len(rated))


@pytest.fixture
def demo(client):
    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    manager = Membership.objects.filter(organization=org, role=Role.CX_MANAGER).first().user
    client.force_login(manager)
    return org


def _card_value(html: str, name: str) -> str:
    card = html.split(f'id="kpi-{name}"')[1].split("</article>")[0]
    return re.search(r'<div class="value[^"]*">(.*?)</div>', card, re.S).group(1).strip()


def test_every_screen_shows_the_figures_of_the_raw_answers(demo, client):
    org, today = demo, timezone.now().date()
    start = today - timedelta(days=29)
    answers = counted(org, start, today)
    expected = {metric: raw_figure(metric, answers) for metric in METRIC_TYPE}
    assert expected["nps"].n > 100 and expected["csi"].n > 10  # the demo answers every type

    # The dashboard (default period: the last 30 days), the API and the command.
    dashboard = client.get("/").content.decode()
    api = client.get("/api/v1/metrics/summary/").json()["metrics"]
    out = io.StringIO()
    call_command("cx_metrics", "--org", org.slug, "--json", stdout=out)
    command = json.loads(out.getvalue())["metrics"]
    for metric, figure in expected.items():
        assert _card_value(dashboard, metric) == formatting.figure(metric, figure.value), metric
        for source in (api, command):
            assert source[metric]["value"] == definitions.shown(metric, figure.value), metric
            assert source[metric]["n"] == figure.n and source[metric]["skipped"] == figure.skipped, metric
            assert source[metric]["margin_of_error"] == definitions.shown(metric, figure.margin_of_error), metric
    answered = sum(1 for r in answers if r.score is not None or r.survey.survey_type == SurveyType.CSI
                   and r.answers.filter(number__isnull=False, question__kind=Question.Kind.CSI_ATTRIBUTE).exists())
    assert api["responses"]["value"] == answered

    # The executive summary says the same numbers in words.
    executive = client.get("/metrics/executive/").context["summary"]
    for line in executive["lines"]:
        if line.metric in expected:
            assert line.value == formatting.figure(line.metric, expected[line.metric].value), line.metric

    # The frontline view and a journey map: per touchpoint.
    by_touchpoint = defaultdict(list)
    for r in answers:
        by_touchpoint[r.touchpoint_id].append(r)
    frontline = client.get("/metrics/frontline/", {"team": [t.pk for t in org_teams(org)]})
    rows = frontline.context["rows"]
    assert rows
    for row in rows:
        for metric, shown in row["figures"].items():
            raw = raw_figure(metric, by_touchpoint[row["key"]])
            assert (shown["value"], shown["n"]) == (definitions.shown(metric, raw.value), raw.n), (row["name"], metric)
            assert formatting.figure(metric, raw.value) in frontline.content.decode() or metric == "csi"
    lanes = [client.get(f"/metrics/journey-maps/{m.pk}/figures/").context["touchpoints"]
             for m in JourneyMap.objects.filter(organization=org)]
    assert any(entry["figures"] for lane in lanes for entry in lane)
    for entry in (entry for lane in lanes for entry in lane):
        for metric, shown in entry["figures"].items():
            raw = raw_figure(metric, by_touchpoint[entry["touchpoint"].pk])
            assert (shown["value"], shown["n"]) == (definitions.shown(metric, raw.value), raw.n), metric

    # The survey list: each survey's completed answers, once each.
    survey_list = client.get("/surveys/").content.decode()
    for survey in Survey.objects.filter(organization=org):
        completed = Response.objects.filter(survey=survey, status=Response.Status.COMPLETED).count()
        row = survey_list.split(f'/surveys/{survey.pk}/"')[1].split("</tr>")[0]
        assert re.findall(r"<td[^>]*>(?:<a [^>]*>)?(\d+)(?:</a>)?</td>", row)[-1] == str(completed), survey.name

    # A goal's page: its KPI over the 30 days to today, for its scope.
    goals = 0
    for goal in Goal.objects.filter(organization=org, kpi__in=list(METRIC_TYPE), start_date__lte=today):
        touchpoints = set(goal.touchpoints.values_list("pk", flat=True))
        window = [r for r in counted(org, today - timedelta(days=29), today)
                  if not touchpoints or r.touchpoint_id in touchpoints]
        raw = raw_figure(goal.kpi, window)
        page = client.get(f"/actions/goals/{goal.pk}/").content.decode()
        now = re.search(r'<strong id="kpi-now">(.*?)</strong>', page)
        if raw.value is None:
            assert now is None, goal.title
        else:
            assert now.group(1) == formatting.figure(goal.kpi, raw.value), goal.title
            goals += 1
    assert goals, "the demo's goals must be measured here"


def org_teams(org):
    from feedback.models import Team

    return list(Team.objects.filter(organization=org))
