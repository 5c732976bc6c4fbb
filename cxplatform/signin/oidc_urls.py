"""/oidc/: mozilla-django-oidc's two flow views (through its OIDC_AUTHENTICATE_CLASS and
OIDC_CALLBACK_CLASS settings, under its own url names), without the library's logout route: that
one would stay live with SSO off, and our /logout/ already signs people out."""

from django.urls import path
from mozilla_django_oidc.urls import OIDCAuthenticateClass, OIDCCallbackClass

urlpatterns = [
    path("callback/", OIDCCallbackClass.as_view(), name="oidc_authentication_callback"),
    path("authenticate/", OIDCAuthenticateClass.as_view(), name="oidc_authentication_init"),
]
