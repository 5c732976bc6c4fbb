"""Reusable read queries of surveys: the responses of a survey (filtered) and the link funnels.

Every query starts from `cxplatform.tenancy.scoped`, so nothing here can read across organizations.
"""

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from cxplatform.tenancy import scoped

from . import answers, revisions
from .models import Answer, Distribution, DistributionDay, ExportJob, Question, Response, Survey, SurveyRevision
from .services import localized

# A response not completed yet has no submission time: it is dated by when it was started.
ANSWERED_AT = Coalesce("submitted_at", "started_at")


def responses(organization, survey, filters: Mapping | None = None):
    """The responses of `survey` in `organization`, newest first, narrowed by `filters`.

    `filters` holds cleaned values (as `surveys.filters.ResponseFilter` gives them), each optional:
    `from` / `to` (dates, both inclusive), `band`, `touchpoint`, `channel` (an object or an id),
    `language`, `has_comment` ("yes" / "no" or a bool), `status`.
    """
    qs = (
        scoped(Response, organization)
        .filter(survey=survey)
        .select_related("customer", "touchpoint", "channel", "distribution")
        .prefetch_related(Prefetch("answers", queryset=Answer.objects.select_related("question")))
        .annotate(answered_at=ANSWERED_AT)
        .order_by("-answered_at", "-id")
    )
    return filter_responses(qs, filters or {})


def recent_exports(organization, survey, user, limit: int = 5) -> list[ExportJob]:
    """The export jobs `user` asked for of `survey`, newest first: the way back to a file."""
    return list(scoped(ExportJob, organization).filter(survey=survey, created_by=user)[:limit])


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def filter_responses(qs, filters: Mapping):
    """Narrow a queryset of responses annotated with `answered_at` (see `responses`)."""
    start, end = filters.get("from"), filters.get("to")
    if start:
        qs = qs.filter(answered_at__gte=_day_start(start))
    if end and end < date.max:  # "to" the last day a date can hold: no upper bound (and no overflow)
        qs = qs.filter(answered_at__lt=_day_start(end + timedelta(days=1)))
    for name in ("band", "touchpoint", "channel", "language", "status"):
        value = filters.get(name)
        if value not in (None, ""):
            qs = qs.filter(**{name: value})
    has_comment = filters.get("has_comment")
    if has_comment in ("yes", True):
        qs = qs.exclude(comment="")
    elif has_comment in ("no", False):
        qs = qs.filter(comment="")
    return qs


def questions_ever_asked(survey) -> list[Question]:
    """Every question `survey` has asked, archived ones after the current (their answers keep their
    question and their column: docs/adr/0030), statements left out: nobody answers them."""
    rows = scoped(Question.all_objects.all(), survey.organization_id).filter(survey=survey).exclude(
        kind=Question.Kind.STATEMENT)
    return sorted(rows, key=lambda q: (q.archived_at is not None, q.page, q.position, q.pk))


def attach_revisions(responses) -> None:
    """Load the survey revisions the `responses` were given on, one query for all, so reading
    each answer's wording (`revisions.wording`) costs nothing more."""
    responses = list(responses)
    wanted = {(r.survey_id, r.revision) for r in responses if r.revision}
    if not wanted:
        return
    surveys = {survey_id for survey_id, _number in wanted}
    snapshots = {(row.survey_id, row.number): row.snapshot for row in SurveyRevision.objects.filter(
        survey_id__in=surveys, number__in={number for _survey, number in wanted})}
    for response in responses:
        if response.revision:
            response._revision_snapshot = snapshots.get((response.survey_id, response.revision), {})


# --- Funnel ---------------------------------------------------------------------------------

def surveys_with_counts(organization):
    """The organization's surveys, each with its links (`links`) and completed answers
    (`completed`). Each count is its own subquery: one COUNT over a join of both would multiply
    the answers by the links (5,904 for a survey with 1,968 answers at three links)."""
    def count_of(model, **extra):
        rows = model.objects.filter(survey=OuterRef("pk"), **extra).order_by().values("survey")
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    return scoped(Survey, organization).annotate(
        links=count_of(Distribution), completed=count_of(Response, status=Response.Status.COMPLETED))


def _rates(row: dict) -> dict:
    row["response_rate"] = row["completed"] / row["opened"] if row["opened"] else None
    row["completion_rate"] = row["completed"] / row["started"] if row["started"] else None
    return row


def funnel(distribution: Distribution) -> dict:
    """How one link did: opened (and held back by the contact policy) → started → completed."""
    days = DistributionDay.objects.filter(distribution=distribution).aggregate(
        opened=Coalesce(Sum("opened"), 0), skipped_by_policy=Coalesce(Sum("skipped_by_policy"), 0),
    )
    answers = scoped(Response, distribution.organization_id).filter(distribution=distribution).aggregate(
        started=Count("id"), completed=Count("id", filter=Q(status=Response.Status.COMPLETED)),
    )
    return _rates({**days, **answers})


def survey_funnel(survey) -> list[dict]:
    """`funnel()` of every link of `survey` (each dict also holds its `distribution`), newest link
    first: three queries in all, whatever the number of links."""
    organization = survey.organization_id
    distributions = list(
        scoped(Distribution, organization).filter(survey=survey).select_related("touchpoint", "channel")
    )
    days = {
        row["distribution"]: row
        for row in DistributionDay.objects.filter(
            distribution__survey=survey, distribution__organization=organization
        )
        .values("distribution").order_by()
        .annotate(opened=Sum("opened"), skipped_by_policy=Sum("skipped_by_policy"))
    }
    answers = {
        row["distribution"]: row
        for row in scoped(Response, organization).filter(survey=survey, distribution__isnull=False)
        .values("distribution").order_by()
        .annotate(started=Count("id"), completed=Count("id", filter=Q(status=Response.Status.COMPLETED)))
    }
    result = []
    for distribution in distributions:
        opened = days.get(distribution.pk, {})
        answered = answers.get(distribution.pk, {})
        result.append(_rates({
            "distribution": distribution,
            "opened": opened.get("opened") or 0,
            "skipped_by_policy": opened.get("skipped_by_policy") or 0,
            "started": answered.get("started", 0),
            "completed": answered.get("completed", 0),
        }))
    return result


def links_at_touchpoint(organization, touchpoint_id) -> dict:
    """The survey links sent at a touchpoint, each with its completed responses, and how many
    completed answers reached the touchpoint without a link (imports, the API)."""
    completed = Q(responses__status=Response.Status.COMPLETED, responses__touchpoint_id=touchpoint_id)
    links = list(
        scoped(Distribution, organization).filter(touchpoint_id=touchpoint_id)
        .select_related("survey", "channel")
        .annotate(completed=Count("responses", filter=completed))
        .order_by("-active", "survey__name", "name", "id")
    )
    unlinked = scoped(Response, organization).filter(touchpoint_id=touchpoint_id, distribution__isnull=True,
                                                     status=Response.Status.COMPLETED).count()
    return {"links": links, "unlinked": unlinked}


def answer_display(question, answer, language):
    """What the respondent answered, as the reader should see it (choice labels, not values)."""
    if answer is None:
        return None
    return answers.as_text(question, answer, language=language)


def answer_rows(response, language: str, questions: list[Question] | None = None) -> list[dict]:
    """Every current question of the response's survey with what was answered (None where skipped),
    then the archived questions it answered, each in the wording of the response's revision."""
    given = {a.question_id: a for a in response.answers.all()}
    asked = questions if questions is not None else questions_ever_asked(response.survey)
    rows = []
    for question in asked:
        answer = given.get(question.pk)
        if question.archived_at is not None and answer is None:
            continue  # a question taken out before this response, or not answered by it
        rows.append({"question": question, "text": localized(revisions.wording(response, question), language),
                     "answer": answer, "archived": question.archived_at is not None,
                     "value": answer_display(question, answer, language)})
    return rows
