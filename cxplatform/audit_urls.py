"""The audit log: /settings/audit/."""

app_name = "audit"
urlpatterns = []
