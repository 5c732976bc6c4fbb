"""A real OpenID Connect provider on loopback for the SSO tests: pyop's Provider (authorization,
token, userinfo and JWKS endpoints, RS256-signed ID tokens, PKCE) behind a small werkzeug WSGI
server in a thread, over HTTPS (OpenID Connect requires an https issuer; the certificate is made
for 127.0.0.1 on the fly, and `ca_file` is what the client is told to trust). Its authorization
endpoint approves, without a login form, whichever of its people the test names in `signed_in_as`
— the part a person would type at the provider."""

import datetime
import ipaddress
import json
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

from Cryptodome.PublicKey import RSA
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwkest.jwk import RSAKey
from pyop.authz_state import AuthorizationState
from pyop.exceptions import InvalidAuthenticationRequest, InvalidClientAuthentication, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo
from pyop.util import should_fragment_encode
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "cx-platform"
CLIENT_SECRET = "loopback-client-secret"


class LoopbackProvider:
    def __init__(self, *, redirect_uri: str, people: dict[str, dict], forged_keys: bool = False):
        self.people = people
        # Publish a key other than the one that signs: what a client that skipped the signature
        # check would not notice.
        self.forged_keys = forged_keys
        self.signed_in_as: str | None = None
        self.requests: list[str] = []  # paths asked, so a test can prove the flow went through here
        self._files = tempfile.TemporaryDirectory()
        self.ca_file, key_file = _self_signed_certificate(Path(self._files.name))
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, ssl_context=(self.ca_file, key_file))
        self.issuer = f"https://127.0.0.1:{self._server.server_port}"
        self.clients = {CLIENT_ID: {
            "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri], "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
        }}
        self.provider = Provider(
            RSAKey(key=RSA.generate(2048), alg="RS256", kid="loopback-key"),
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"],
                "code_challenge_methods_supported": ["S256"],
            },
            AuthorizationState(HashBasedSubjectIdentifierFactory("loopback-salt")),
            self.clients,
            Userinfo(people),
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._files.cleanup()

    @Request.application
    def _wsgi(self, request):
        self.requests.append(request.path)
        try:
            if request.path == "/.well-known/openid-configuration":
                return _json(self.provider.provider_configuration.to_dict())
            if request.path == "/jwks":
                if self.forged_keys:
                    other = RSAKey(key=RSA.generate(2048), alg="RS256", kid="loopback-key")
                    return _json({"keys": [other.serialize()]})
                return _json(self.provider.jwks)
            if request.path == "/authorize":
                return self._authorize(request)
            if request.path == "/token":
                answer = self.provider.handle_token_request(request.get_data(as_text=True), dict(request.headers))
                return _json(answer.to_dict())
            if request.path == "/userinfo":
                answer = self.provider.handle_userinfo_request(request.get_data(as_text=True) or
                                                               urlencode(request.args), dict(request.headers))
                return _json(answer.to_dict())
        except InvalidClientAuthentication as error:
            return _json({"error": "invalid_client", "error_description": str(error)}, 401)
        except OAuthError as error:
            return _json({"error": error.oauth_error, "error_description": str(error)}, 400)
        return Response("not found", status=404)

    def _authorize(self, request):
        try:
            auth_request = self.provider.parse_authentication_request(urlencode(request.args),
                                                                      dict(request.headers))
        except InvalidAuthenticationRequest as error:
            return Response(f"bad authentication request: {error}", status=400)
        if self.signed_in_as is None:
            return Response("nobody signed in at the provider", status=403)
        answer = self.provider.authorize(auth_request, self.signed_in_as)
        location = answer.request(auth_request["redirect_uri"], should_fragment_encode(auth_request))
        return Response(status=302, headers={"Location": location})


def _json(body, status=200):
    return Response(json.dumps(body), status=status, content_type="application/json")


def _self_signed_certificate(folder: Path) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "provider.pem", folder / "provider-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)
