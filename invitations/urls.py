from django.urls import path  # noqa: F401  (routes are added below per area)

from .views import manage

app_name = "invitations"

# Campaigns, audiences, the suppression list and sending settings.
urlpatterns = [
    path("", manage.campaign_list, name="campaign_list"),
    path("campaigns/new/", manage.campaign_create, name="campaign_create"),
    path("campaigns/<int:campaign_id>/", manage.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/edit/", manage.campaign_edit, name="campaign_edit"),
    path("campaigns/<int:campaign_id>/preview/", manage.campaign_preview, name="campaign_preview"),
    path("campaigns/<int:campaign_id>/test/", manage.campaign_test, name="campaign_test"),
    path("campaigns/<int:campaign_id>/schedule/", manage.campaign_schedule, name="campaign_schedule"),
    path("campaigns/<int:campaign_id>/cancel/", manage.campaign_cancel, name="campaign_cancel"),
    path("audiences/", manage.audience_list, name="audience_list"),
    path("audiences/new/", manage.audience_create, name="audience_create"),
    path("audiences/upload/", manage.audience_upload, name="audience_upload"),
    path("audiences/size/", manage.audience_size, name="audience_size"),
    path("audiences/<int:audience_id>/edit/", manage.audience_edit, name="audience_edit"),
    path("audiences/<int:audience_id>/delete/", manage.audience_delete, name="audience_delete"),
    path("suppressions/", manage.suppression_list, name="suppression_list"),
    path("suppressions/<int:suppression_id>/delete/", manage.suppression_delete, name="suppression_delete"),
    path("settings/", manage.sending_settings, name="sending_settings"),
]

# Trigger rules and their history.
from .views import triggers as trigger_views  # noqa: E402

urlpatterns += [
    path("triggers/", trigger_views.trigger_list, name="trigger_list"),
    path("triggers/new/", trigger_views.trigger_create, name="trigger_create"),
    path("triggers/<int:trigger_rule_id>/", trigger_views.trigger_detail, name="trigger_detail"),
    path("triggers/<int:trigger_rule_id>/edit/", trigger_views.trigger_edit, name="trigger_edit"),
    path("triggers/<int:trigger_rule_id>/test/", trigger_views.trigger_send_test, name="trigger_send_test"),
]
