"""Members of the organization: /settings/members/."""

app_name = "team"
urlpatterns = []
