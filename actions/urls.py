from django.urls import path

from . import views

app_name = "actions"

urlpatterns = [
    path("", views.index, name="index"),
    path("goals/new/", views.goal_new, name="goal_new"),
    path("goals/<int:goal_id>/", views.goal_detail, name="goal_detail"),
    path("goals/<int:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/delete/", views.goal_delete, name="goal_delete"),
    path("new/", views.action_new, name="action_new"),
    path("items/<int:action_item_id>/", views.action_detail, name="action_detail"),
    path("items/<int:action_item_id>/edit/", views.action_edit, name="action_edit"),
    path("items/<int:action_item_id>/status/", views.action_status, name="action_status"),
    path("items/<int:action_item_id>/comments/", views.action_comment, name="action_comment"),
    # Loaded by the journey pages (journeys cannot import actions).
    path("touchpoints/<int:touchpoint_id>/", views.touchpoint_actions, name="touchpoint_actions"),
    path("root-causes/", views.root_cause_analysis, name="root_causes"),
]
