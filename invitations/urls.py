from django.urls import path  # noqa: F401  (routes are added below per area)

app_name = "invitations"

# Campaigns, audiences, the suppression list and sending settings.
urlpatterns = []

# Trigger rules and their history.
from .views import triggers as trigger_views  # noqa: E402

urlpatterns += [
    path("triggers/", trigger_views.trigger_list, name="trigger_list"),
    path("triggers/new/", trigger_views.trigger_create, name="trigger_create"),
    path("triggers/<int:trigger_rule_id>/", trigger_views.trigger_detail, name="trigger_detail"),
    path("triggers/<int:trigger_rule_id>/edit/", trigger_views.trigger_edit, name="trigger_edit"),
    path("triggers/<int:trigger_rule_id>/test/", trigger_views.trigger_send_test, name="trigger_send_test"),
]
