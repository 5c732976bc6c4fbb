"""Text messages (SMS) through a backend chosen by `SMS_BACKEND`, as Django does for e-mail:

- `ConsoleBackend` prints them (development), `FileBackend` appends them to a file per process
  in `SMS_FILE_PATH`, `LocmemBackend` keeps them in `outbox` (tests);
- `HttpBackend` POSTs each as JSON to `SMS_HTTP_URL` — {"to", "text", "sender", "reference"} —
  with `X-CX-Signature: sha256=<HMAC-SHA256 of the body with SMS_HTTP_SECRET>`, so any provider
  (or a small adapter in front of one) can take them. A 2xx answer is "accepted".
"""

import hashlib
import hmac
import json
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider did not take the message; `permanent` says retrying will not help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class TextMessage:
    to: str
    text: str
    reference: str = ""  # ours, echoed back in delivery reports
    sender: str = ""


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class BaseBackend:
    def send(self, message: TextMessage) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, message: TextMessage) -> None:
        sys.stdout.write(f"SMS to {message.to} ({message.reference}): {message.text}\n")
        sys.stdout.flush()


class FileBackend(BaseBackend):
    _lock = threading.Lock()

    def send(self, message: TextMessage) -> None:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": message.to, "text": message.text, "reference": message.reference},
                          ensure_ascii=False)
        with self._lock, (folder / "messages.jsonl").open("a", encoding="utf-8") as out:
            out.write(line + "\n")


class LocmemBackend(BaseBackend):
    outbox: list[TextMessage] = []

    def send(self, message: TextMessage) -> None:
        LocmemBackend.outbox.append(message)


class HttpBackend(BaseBackend):
    def send(self, message: TextMessage) -> None:
        if not settings.SMS_HTTP_URL:
            raise SmsError("SMS_HTTP_URL is not set", permanent=True)
        body = json.dumps({"to": message.to, "text": message.text, "sender": message.sender or settings.SMS_SENDER,
                           "reference": message.reference}, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 — the operator's configured provider URL
            settings.SMS_HTTP_URL, data=body, method="POST",
            headers={"Content-Type": "application/json", "X-CX-Signature": signature(body, settings.SMS_HTTP_SECRET)},
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.SMS_HTTP_TIMEOUT) as answer:  # noqa: S310  # nosec B310
                answer.read()
        except urllib.error.HTTPError as exc:
            # 4xx: the provider refuses this message (bad number…); 5xx and 429: try again later.
            permanent = 400 <= exc.code < 500 and exc.code != 429
            raise SmsError(f"provider answered {exc.code}", permanent=permanent) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"provider unreachable: {exc}") from exc


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send(message: TextMessage) -> None:
    get_backend().send(message)
