"""Signing in: two-factor codes and single sign-on (/account/…), and the organization's sign-in rules
(/settings/security/). Included at the root, so each path is written whole."""

from django.urls import path

from . import views

app_name = "signin"
urlpatterns = [
    path("account/two-factor/", views.two_factor, name="two_factor"),
    path("account/two-factor/verify/", views.verify, name="two_factor_verify"),
    path("settings/security/", views.organization_security, name="organization_security"),
    path("settings/security/domains/<int:ssodomain_id>/remove/", views.remove_sso_domain,
         name="remove_sso_domain"),
]
