"""A person's own account pages under /account/: accepting an invitation, resetting a password, and
the first administrator's sign-in link. Not namespaced: Django's password views reverse these names."""

from django.urls import path

from . import views

urlpatterns = [
    path("invitation/<str:token>/", views.accept_invitation, name="invitation_accept"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("welcome/<uidb64>/<token>/", views.FirstSignInView.as_view(), name="first_sign_in"),
]
