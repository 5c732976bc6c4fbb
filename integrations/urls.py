"""Outgoing webhooks: /settings/webhooks/."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.webhook_list, name="webhook_list"),
    path("new/", views.webhook_create, name="webhook_create"),
    path("<int:webhooksubscription_id>/", views.webhook_detail, name="webhook_detail"),
    path("<int:webhooksubscription_id>/rotate-secret/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("<int:webhooksubscription_id>/test/", views.webhook_send_test, name="webhook_send_test"),
    path("<int:webhooksubscription_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("deliveries/<int:webhookcall_id>/resend/", views.webhook_call_resend, name="webhook_call_resend"),
]
