from django.urls import path

from . import edit_views, views

app_name = "journeys"

urlpatterns = [
    path("", views.index, name="index"),
    path("personas/new/", views.persona_create, name="persona_create"),
    path("maps/new/", views.map_create, name="map_create"),
    path("maps/<int:journey_map_id>/", views.map_detail, name="map_detail"),
    path("maps/<int:journey_map_id>/export.json", views.map_export, name="map_export"),
    path("campaign-readiness/", views.campaign_readiness, name="campaign_readiness"),
    path("touchpoints/", views.touchpoint_list, name="touchpoint_list"),
    path("touchpoints/<int:touchpoint_id>/", views.touchpoint_detail, name="touchpoint_detail"),
    # Editing in place on the map page (each answers with the re-rendered board).
    path("maps/<int:journey_map_id>/stages/add/", edit_views.stage_add, name="stage_add"),
    path("stages/<int:stage_id>/rename/", edit_views.stage_rename, name="stage_rename"),
    path("stages/<int:stage_id>/move/", edit_views.stage_move, name="stage_move"),
    path("stages/<int:stage_id>/delete/", edit_views.stage_delete, name="stage_delete"),
    path("stages/<int:stage_id>/touchpoints/add/", edit_views.touchpoint_add, name="touchpoint_add"),
    path("touchpoints/<int:touchpoint_id>/edit/", edit_views.touchpoint_edit, name="touchpoint_edit"),
    path("touchpoints/<int:touchpoint_id>/move/", edit_views.touchpoint_move, name="touchpoint_move"),
    path("touchpoints/<int:touchpoint_id>/delete/", edit_views.touchpoint_delete, name="touchpoint_delete"),
    path("maps/<int:journey_map_id>/pain-points/add/", edit_views.pain_point_add, name="pain_point_add"),
    path("pain-points/<int:pain_point_id>/edit/", edit_views.pain_point_edit, name="pain_point_edit"),
    path("pain-points/<int:pain_point_id>/delete/", edit_views.pain_point_delete, name="pain_point_delete"),
    path("maps/<int:journey_map_id>/opportunities/add/", edit_views.opportunity_add, name="opportunity_add"),
    path("opportunities/<int:opportunity_id>/edit/", edit_views.opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:opportunity_id>/delete/", edit_views.opportunity_delete, name="opportunity_delete"),
]
