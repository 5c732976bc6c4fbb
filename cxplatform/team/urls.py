"""Members of the organization: /settings/members/."""

from django.urls import path

from . import views

app_name = "team"
urlpatterns = [
    path("", views.members, name="members"),
    path("invite/", views.invite, name="invite"),
    path("<int:membership_id>/role/", views.change_role, name="change_role"),
    path("<int:membership_id>/deactivate/", views.deactivate, name="deactivate"),
    path("<int:membership_id>/reactivate/", views.reactivate, name="reactivate"),
    path("invitations/<int:memberinvitation_id>/resend/", views.resend_invitation, name="resend_invitation"),
    path("invitations/<int:memberinvitation_id>/revoke/", views.revoke_invitation, name="revoke_invitation"),
]
