"""Signing in: two-factor codes and single sign-on (/account/…), and the organization's sign-in rules
(/settings/security/). Included at the root, so each path is written whole."""

app_name = "signin"
urlpatterns = []
