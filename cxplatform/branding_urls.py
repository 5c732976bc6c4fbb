"""The branding page (/settings/branding/) and the logo as customers' e-mails and pages load it."""

from django.urls import path

from . import branding_views

app_name = "branding"
urlpatterns = [
    path("settings/branding/", branding_views.branding_settings, name="settings"),
    # Public: an invitation e-mail shows the logo to a customer who is signed in to nothing. The
    # name is the stored file's random one (`token` for the URL walks: it is no database id).
    path("brand/logo/<str:token>", branding_views.logo, name="logo"),
]
