"""Data-subject requests and retention: /settings/privacy/."""

app_name = "privacy"
urlpatterns = []
