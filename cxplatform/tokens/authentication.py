"""`Authorization: Bearer cxp_…`: the API's token authentication (issue 16)."""

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from . import services


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A token acts as its owner, for its organization only, while the owner's membership is
    active and the token neither expired nor was revoked. `request.auth` is the ApiToken."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header:
            return None
        scheme = header[0].lower()
        if scheme == b"token":
            # DRF's old tokens: say what happened rather than a bare "not authenticated".
            raise exceptions.AuthenticationFailed(
                _("Tokens of the form \"Token …\" no longer work. Create a new token under Settings → API "
                  "tokens and send it as \"Authorization: Bearer <token>\"."))
        if scheme != b"bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as \"Authorization: Bearer <token>\"."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from None
        token = services.find_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        now = timezone.now()
        if token.is_expired(now):
            raise exceptions.AuthenticationFailed(
                _("This token expired on %(date)s.") % {"date": formats.date_format(
                    timezone.localtime(token.expires_at), "DATETIME_FORMAT")})
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The token's owner can no longer sign in."))
        membership = services.token_membership(token)
        if membership is None:
            raise exceptions.AuthenticationFailed(
                _("The token's owner is no longer an active member of its organization."))
        slug = request.headers.get("X-Organization")
        if slug and slug != token.organization.slug:
            raise exceptions.PermissionDenied(
                _("This token acts only for its own organization (%(slug)s).") % {"slug": token.organization.slug})
        if request.method not in SAFE_METHODS and not token.may_write:
            # Checked here, not in a view's permissions, so the scope holds on every API view.
            raise exceptions.PermissionDenied(
                _("This token may only read: create a read-and-write token to change data."))
        services.note_use(token, now)
        # The API's membership resolution (api_access._membership) reads it from here.
        request._api_membership, request._api_membership_resolved = membership, True
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Tells the schema (and the docs page's "Authorize") how a token is sent."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "cxp_<prefix>_<secret>",
                "description": "A token made under Settings → API tokens, acting for its own organization. "
                               "A read token may only use GET, HEAD and OPTIONS."}
