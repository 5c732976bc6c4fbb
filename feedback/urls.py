from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("", views.index, name="index"),
    path("items/<int:feedback_item_id>/", views.item_detail, name="item_detail"),
    path("items/<int:feedback_item_id>/triage/", views.item_triage, name="item_triage"),
    path("items/<int:feedback_item_id>/notes/", views.item_note, name="item_note"),
]
