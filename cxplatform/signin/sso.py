"""Single sign-on with OpenID Connect, on mozilla-django-oidc (docs/adr/0026).

The deployment names its provider (OIDC_ISSUER) and its client (OIDC_RP_CLIENT_ID, _SECRET). The
provider's endpoints are discovered from `<issuer>/.well-known/openid-configuration` on the first
sign-in and cached, so a provider that is down slows no start-up and breaks only SSO itself.
While no client id is set, SSO is off: the routes answer 404 and the backend answers nobody.
"""

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import services

logger = logging.getLogger(__name__)

# The session remembers how its person signed in: SSO sessions skip our own second factor.
SESSION_METHOD_KEY = "signin.method"
SSO = "sso"


class SSOUnavailable(Exception):
    """The provider could not be reached or described itself wrongly."""


def enabled() -> bool:
    return bool(settings.SSO_ENABLED and settings.OIDC_RP_CLIENT_ID)


def signed_in_by_sso(request) -> bool:
    return request.session.get(SESSION_METHOD_KEY) == SSO


def endpoints() -> dict:
    """The provider's endpoints: the OIDC_OP_* settings when all are given, else discovered."""
    configured = {
        "authorization_endpoint": settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        "token_endpoint": settings.OIDC_OP_TOKEN_ENDPOINT,
        "userinfo_endpoint": settings.OIDC_OP_USER_ENDPOINT,
        "jwks_uri": settings.OIDC_OP_JWKS_ENDPOINT,
    }
    if all(configured.values()):
        return {**configured, "issuer": settings.OIDC_ISSUER}
    if not settings.OIDC_ISSUER:
        raise SSOUnavailable("neither OIDC_ISSUER nor every OIDC_OP_* endpoint is set")
    key = f"signin:oidc-discovery:{settings.OIDC_ISSUER}"
    found = cache.get(key)
    if found is None:
        found = _discover(settings.OIDC_ISSUER)
        cache.set(key, found, settings.OIDC_DISCOVERY_CACHE_SECONDS)
    return found


def _discover(issuer: str) -> dict:
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT,
                                verify=settings.OIDC_VERIFY_SSL)
        response.raise_for_status()
        document = response.json()
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors, as is a missing CA bundle
        raise SSOUnavailable(f"discovery at {issuer} failed: {exc}") from exc
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
    if not isinstance(document, dict) or not all(isinstance(document.get(name), str) for name in needed):
        raise SSOUnavailable(f"discovery at {issuer} lacks an endpoint")
    # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched from.
    if document["issuer"].rstrip("/") != issuer:
        raise SSOUnavailable(f"discovery at {issuer} names another issuer: {document['issuer']}")
    return {name: document[name] for name in needed}


def forget_discovery() -> None:
    cache.delete(f"signin:oidc-discovery:{settings.OIDC_ISSUER}")


def _unavailable(request):
    messages.error(request, _("Single sign-on is unavailable right now. Please try again later, or sign in "
                              "with your password."))
    return HttpResponseRedirect(resolve_url("login"))


class StartSignInView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: sends the browser to the provider (404 while SSO is off)."""

    def __init__(self, *args, **kwargs):
        # The parent reads the endpoint from settings here, at every request; ours is discovered in get().
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        if not enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = endpoints()["authorization_endpoint"]
        except SSOUnavailable:
            logger.warning("single sign-on could not start", exc_info=True)
            return _unavailable(request)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """/oidc/callback/: the provider sends the browser back here with a code."""

    def dispatch(self, request, *args, **kwargs):
        if not enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        try:
            return super().get(request)
        except SSOUnavailable:
            logger.warning("single sign-on could not finish", exc_info=True)
            return _unavailable(request)

    def login_failure(self):
        refusal = getattr(self.request, "sso_refusal", None)
        messages.error(self.request, refusal or _("Single sign-on did not sign you in. Please try again."))
        return HttpResponseRedirect(resolve_url("login"))

    def login_success(self):
        response = super().login_success()
        self.request.session[SESSION_METHOD_KEY] = SSO
        services.record_sso_sign_in(request=self.request, user=self.user)
        return response

    @property
    def success_url(self):
        next_url = self.request.session.get("oidc_login_next")
        return next_url or resolve_url(settings.LOGIN_REDIRECT_URL)


class SingleSignOnBackend(OIDCAuthenticationBackend):
    """Signs in the person whose e-mail the provider has verified; a first sign-in from a listed
    e-mail domain makes them a member (services.admit_by_sso holds the rule)."""

    def __init__(self, *args, **kwargs):
        # The parent requires every endpoint in settings, and Django makes a backend for every
        # password sign-in too: ours are read only when an SSO callback arrives.
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # Only the callback passes a nonce: a password sign-in never reaches the provider.
        if request is None or not enabled() or "nonce" not in kwargs:
            return None
        found = endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = found["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = found["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = found["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.issuer = found.get("issuer") or settings.OIDC_ISSUER
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as exc:
            logger.warning("single sign-on refused: %s", exc)
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        # mozilla-django-oidc checks the signature and the nonce, not whom the token is for nor
        # who issued it: a token the provider made for another client must not sign anyone in here.
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is for another client")
        if self.issuer and str(payload.get("iss", "")).rstrip("/") != self.issuer.rstrip("/"):
            raise SuspiciousOperation("ID token from another issuer")
        self.id_token_subject = payload.get("sub")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core §5.3.2: userinfo must be about the ID token's subject.
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is about another subject")
        try:
            return services.admit_by_sso(
                email=claims.get("email") or "", email_verified=claims.get("email_verified") is True,
                first_name=str(claims.get("given_name") or "")[:150],
                last_name=str(claims.get("family_name") or "")[:150], request=self.request,
            )
        except services.SSORefused as refusal:
            self.request.sso_refusal = refusal.message
            return None

    def get_user(self, user_id):
        # ModelBackend's: a deactivated user's session ends at once.
        return ModelBackend.get_user(self, user_id)
