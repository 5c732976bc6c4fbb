from django.urls import path

from .views import exports, imports, library, manage, responses, touchpoints

app_name = "surveys"

urlpatterns = [
    # Surveys, questions, distributions (views/manage.py)
    path("", manage.survey_list, name="index"),
    path("new/", manage.survey_create, name="survey_create"),
    path("contact-policy/", manage.contact_policy_edit, name="contact_policy"),
    path("<int:survey_id>/", manage.survey_detail, name="survey_detail"),
    path("<int:survey_id>/edit/", manage.survey_edit, name="survey_edit"),
    path("<int:survey_id>/questions/new/", manage.question_create, name="question_create"),
    path("<int:survey_id>/questions/<int:question_id>/edit/", manage.question_edit, name="question_edit"),
    path("<int:survey_id>/questions/<int:question_id>/delete/", manage.question_delete, name="question_delete"),
    path("<int:survey_id>/offers/new/", manage.offer_create, name="offer_create"),
    path("<int:survey_id>/offers/<int:retentionoffer_id>/delete/", manage.offer_delete, name="offer_delete"),
    path("<int:survey_id>/distributions/new/", manage.distribution_create, name="distribution_create"),
    path("<int:survey_id>/distributions/<int:distribution_id>/", manage.distribution_detail,
         name="distribution_detail"),
    path("<int:survey_id>/distributions/<int:distribution_id>/qr.png", manage.distribution_qr_png,
         name="distribution_qr_png"),
    path("<int:survey_id>/distributions/<int:distribution_id>/qr.svg", manage.distribution_qr_svg,
         name="distribution_qr_svg"),
    # The surveys at a touchpoint, a fragment of the journeys touchpoint page (views/touchpoints.py)
    path("touchpoints/<int:touchpoint_id>/surveys/", touchpoints.touchpoint_surveys, name="touchpoint_surveys"),
    # Responses list, detail and export (views/responses.py)
    *responses.urlpatterns,
    # Exports too large for a web request, written by a worker (views/exports.py)
    *exports.urlpatterns,
    # Import of past responses (views/imports.py)
    *imports.urlpatterns,
    # The template library (views/library.py)
    *library.urlpatterns,
]
