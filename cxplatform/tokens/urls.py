"""API tokens: /settings/tokens/."""

app_name = "tokens"
urlpatterns = []
