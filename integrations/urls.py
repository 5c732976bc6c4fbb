"""Outgoing webhooks: /settings/webhooks/."""

app_name = "integrations"
urlpatterns = []
