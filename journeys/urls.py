from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("", views.touchpoint_list, name="index"),
    path("touchpoints/<int:touchpoint_id>/", views.touchpoint_detail, name="touchpoint_detail"),
]
