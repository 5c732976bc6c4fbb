from django.urls import path  # noqa: F401  (routes are added below per area)

app_name = "invitations"

# Campaigns, audiences, the suppression list and sending settings.
urlpatterns = []

# Trigger rules and their history.
urlpatterns += []
