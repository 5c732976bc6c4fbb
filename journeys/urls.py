from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("", views.index, name="index"),
    path("maps/<int:journey_map_id>/", views.map_detail, name="map_detail"),
    path("maps/<int:journey_map_id>/export.json", views.map_export, name="map_export"),
    path("touchpoints/", views.touchpoint_list, name="touchpoint_list"),
    path("touchpoints/<int:touchpoint_id>/", views.touchpoint_detail, name="touchpoint_detail"),
]
