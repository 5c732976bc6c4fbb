"""Data-subject requests and retention: /settings/privacy/."""

from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
    path("erase/", views.erase, name="erase"),
    path("retention/", views.retention, name="retention"),
]
