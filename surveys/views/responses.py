"""The answers that came back: a survey's responses (filtered, with each link's funnel), one
response in full, and the same filtered list exported to CSV or Excel."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_safe

from cxplatform.models import Capability
from cxplatform.permissions import member_required
from cxplatform.replica import reads_from_replica
from cxplatform.tenancy import get_for_org_or_404

from .. import export_jobs, exporting, selectors
from ..filters import ResponseFilter
from ..models import ExportJob, Survey, SurveyType
from ..services import localized

PER_PAGE = 50


def _survey(request, survey_id):
    return get_for_org_or_404(Survey, request.organization, pk=survey_id)


def _filter(request, survey):
    return ResponseFilter(
        request.GET, queryset=selectors.responses(request.organization, survey), request=request, survey=survey
    )


def _list_page(request, survey, filterset, status=200):
    page = None
    if filterset.is_valid():
        page = Paginator(filterset.qs, PER_PAGE).get_page(request.GET.get("page"))
        # Each row shows its answers under their questions (archived ones too), in the wording of
        # the revision it was given on: a fixed number of queries whatever the rows.
        language = get_language() or survey.default_language
        asked = selectors.questions_ever_asked(survey)
        selectors.attach_revisions(page.object_list)
        for response in page.object_list:
            response.answer_rows = [row for row in selectors.answer_rows(response, language, asked)
                                    if row["answer"] is not None]
    return render(request, "surveys/response_list.html", {
        "survey": survey,
        "form": filterset.form,
        "page": page,
        "funnel": selectors.survey_funnel(survey),
        "exports": selectors.recent_exports(request.organization, survey, request.user),
    }, status=status)


@member_required
@require_safe
def response_list(request, survey_id):
    survey = _survey(request, survey_id)
    # Invalid filters show the form's errors (and no rows) on an ordinary page, never an error page.
    return _list_page(request, survey, _filter(request, survey))


def _export(request, survey_id, write, format):
    survey = _survey(request, survey_id)
    filterset = _filter(request, survey)
    if not filterset.is_valid():
        return _list_page(request, survey, filterset, status=400)
    personal = request.membership.can(Capability.PERSONAL_DATA)
    if export_jobs.too_large_to_stream(queryset=filterset.qs, format=format):
        # Streamed, it could outlast the web worker's timeout and end short with a 200: a worker
        # writes it instead, and its page offers it when every row is in. A job is made by a POST
        # only (the list's buttons); a GET (a bookmark, a prefetch) asks to confirm first.
        if request.method != "POST":
            return render(request, "surveys/export_confirm.html", {
                "survey": survey, "format": ExportJob.Format(format), "limit": export_jobs.stream_limit(format)})
        job = export_jobs.create_job(organization=request.organization, survey=survey, user=request.user,
                                     query=request.GET.urlencode(), format=format, personal=personal,
                                     request=request)
        return redirect(job.get_absolute_url())
    if request.method == "HEAD":
        return exporting.head_response(survey, format)
    if personal:
        export_jobs.record_export(request=request, survey=survey, format=format, query=request.GET.urlencode())
    return write(survey, filterset.qs, personal=personal)


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
@reads_from_replica
def response_export_csv(request, survey_id):
    return _export(request, survey_id, exporting.csv_response, ExportJob.Format.CSV)


@member_required
@require_http_methods(["GET", "HEAD", "POST"])
@reads_from_replica
def response_export_xlsx(request, survey_id):
    return _export(request, survey_id, exporting.xlsx_response, ExportJob.Format.XLSX)


@member_required
@require_safe
def response_detail(request, survey_id, response_id):
    survey = _survey(request, survey_id)
    response = get_for_org_or_404(
        selectors.responses(request.organization, survey), request.organization, pk=response_id
    )
    language = get_language() or survey.default_language
    rows = selectors.answer_rows(response, language)  # in the wording of the response's revision
    hidden = response.hidden_fields if isinstance(response.hidden_fields, dict) else {}
    return render(request, "surveys/response_detail.html", {
        "survey": survey,
        "response": response,
        "score_question": (
            localized(survey.score_question, language) if survey.survey_type != SurveyType.CSI else ""
        ),
        "follow_up": localized((survey.follow_up or {}).get(response.band), language),
        "answers": rows,
        "hidden_fields": sorted(hidden.items()),
    })


urlpatterns = [
    path("<int:survey_id>/responses/", response_list, name="response_list"),
    path("<int:survey_id>/responses/export.csv", response_export_csv, name="response_export_csv"),
    path("<int:survey_id>/responses/export.xlsx", response_export_xlsx, name="response_export_xlsx"),
    path("<int:survey_id>/responses/<int:response_id>/", response_detail, name="response_detail"),
]
