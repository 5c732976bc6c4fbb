from django.urls import path

from .views import builder, exports, imports, library, manage, responses, touchpoints

app_name = "surveys"

urlpatterns = [
    # Surveys, questions, distributions (views/manage.py)
    path("", manage.survey_list, name="index"),
    path("new/", manage.survey_create, name="survey_create"),
    path("contact-policy/", manage.contact_policy_edit, name="contact_policy"),
    path("<int:survey_id>/edit/", manage.survey_edit, name="survey_edit"),
    # The builder: questions, pages and their logic, languages, publishing (views/builder.py)
    path("<int:survey_id>/", builder.survey_detail, name="survey_detail"),
    path("<int:survey_id>/questions/new/", builder.question_create, name="question_create"),
    path("<int:survey_id>/questions/order/", builder.question_order, name="question_order"),
    path("<int:survey_id>/questions/<int:question_id>/edit/", builder.question_edit, name="question_edit"),
    path("<int:survey_id>/questions/<int:question_id>/delete/", builder.question_delete, name="question_delete"),
    path("<int:survey_id>/questions/<int:question_id>/duplicate/", builder.question_duplicate,
         name="question_duplicate"),
    path("<int:survey_id>/questions/<int:question_id>/move/", builder.question_move, name="question_move"),
    path("<int:survey_id>/pages/add/", builder.page_add, name="page_add"),
    path("<int:survey_id>/pages/remove/", builder.page_remove, name="page_remove"),
    path("<int:survey_id>/pages/jumps/add/", builder.jump_add, name="jump_add"),
    path("<int:survey_id>/pages/jumps/remove/", builder.jump_remove, name="jump_remove"),
    path("<int:survey_id>/languages/", builder.languages, name="languages"),
    path("<int:survey_id>/translations/", builder.translations_view, name="translations"),
    path("<int:survey_id>/publish/", builder.publish, name="publish"),
    path("<int:survey_id>/status/", builder.status, name="status"),
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
