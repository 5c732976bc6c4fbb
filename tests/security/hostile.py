"""The hostile-input corpus and the machinery that sends it: every request is made inside a
savepoint that is rolled back (a DELETE, a logout or a rate limit it spends leaves the fixture as
it was, and a request that broke the transaction cannot break the next), and every 5xx is
recorded with the request that caused it rather than raised."""

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote_from_bytes

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = ("cxplatform", "surveys", "journeys", "feedback", "metrics", "actions")

# --- Form fields and query parameters: raw bytes, percent-encoded as a browser or a script would.
FORM_CORPUS = {
    "nul": b"a\x00b",
    # The UTF-8 form of a lone surrogate (U+D800), a stray byte and an overlong "/": invalid UTF-8.
    "bad-text": b"\xed\xa0\x80\xff\xc0\xafx",
    "digits": b"9" * 5000,  # past Python's 4,300-digit int() limit
    "huge-number": b"-99999999999999999999999999",
    "unicode-digits": "²٣".encode(),  # isdigit(), yet int("²") fails
    "impossible-date": b"2026-02-30",  # a date field and a date-time field both refuse it
    "long-text": b"x" * 6000,
}
# A value sent twice: views that read one value (get) and forms that read a list (getlist).
REPEATED = (b"1", b"[]")

# --- JSON values put in every field of a body.
JSON_FIELD_CORPUS = {
    "nul": "a\x00b",
    "surrogate": "\ud800",
    "digits-text": "9" * 5000,
    "big-int": -(10**30),  # past any integer column
    "impossible-date": "2026-02-30",
    "impossible-moment": "2026-02-30T25:61:00Z",
    "list": ["a\x00b", "\udc80", 10**30],
    "object": {"\ud800": "x", "a": {"b": ["9" * 5000]}},
    "null": None,
}
# A scalar root stands for every scalar: the code that fails on one ("x".get) fails on all.
WRONG_ROOTS = {"list-root": [], "list-of-objects": [{}], "string-root": "x", "null-root": None}
DEEP = 10_000  # levels of nesting


def deep_bodies():
    return {"deep-list": "[" * DEEP + "]" * DEEP,
            "deep-object": '{"a":' * DEEP + "1" + "}" * DEEP}


def huge_body() -> str:
    # A valid JSON document one byte over the limit of what is read into memory.
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    return json.dumps({"text": "x" * size})


def encode_pairs(pairs) -> str:
    """An application/x-www-form-urlencoded string from (name, bytes) pairs."""
    return "&".join(f"{quote_from_bytes(name.encode())}={quote_from_bytes(value)}" for name, value in pairs)


def form_variants(names, keep=None):
    """(label, encoded body or query) for each corpus entry, each given to every name at once;
    the names in `keep` (a page's hidden fields: its token, the version it shows) keep their
    values, so that the hostile values get past them to the code behind."""
    keep = keep or {}
    names = sorted(set(names) - set(keep))
    kept = [(name, value.encode()) for name, value in keep.items()]
    for kind, value in FORM_CORPUS.items():
        yield kind, encode_pairs(kept + [(name, value) for name in names])
    yield "repeated", encode_pairs(kept + [(name, value) for name in names for value in REPEATED])


# Names the code reads from requests, found in the source (a view reading a parameter no form
# shows is walked too).
_READ = re.compile(r"""(?:GET|POST|query_params|data|params|query)\.get(?:list)?\(\s*["']([\w.-]+)["']""")


def names_read_in_code() -> set[str]:
    names = set()
    for app in OUR_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                names.update(_READ.findall(path.read_text(encoding="utf-8")))
    return names


class _FormFields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.names, self.hidden = set(), {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag in ("input", "select", "textarea", "button") and name and name != "csrfmiddlewaretoken":
            self.names.add(name)
            if tag == "input" and attrs.get("type") == "hidden":
                self.hidden[name] = attrs.get("value") or ""


def form_fields(html: str) -> tuple[set[str], dict[str, str]]:
    """The names of a page's form fields, and the values of its hidden ones."""
    parser = _FormFields()
    parser.feed(html)
    return parser.names, parser.hidden


@dataclass
class Recorder:
    """Sends requests, each in a savepoint that is rolled back, and keeps every 5xx."""

    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def send(self, client, method: str, url: str, label: str, **kwargs):
        self.sent += 1
        cookies = {key: morsel.value for key, morsel in client.cookies.items()}
        savepoint = transaction.savepoint()
        try:
            response = getattr(client, method)(url, **kwargs)
        except Exception as exc:  # the client itself failed: still a server error to report
            self._record(method, url, label, f"{type(exc).__name__}: {exc}"[:300])
            return None
        finally:
            transaction.savepoint_rollback(savepoint)
            connection.needs_rollback = False
            client.cookies.clear()
            for key, value in cookies.items():
                client.cookies[key] = value
        if response.status_code >= 500:
            exc_info = getattr(response, "exc_info", None)
            cause = f"{exc_info[0].__name__}: {str(exc_info[1])[:300]}" if exc_info else response.content[:300]
            self._record(method, url, label, f"{response.status_code} {cause}")
        return response

    def _record(self, method, url, label, what):
        shown = url if len(url) < 160 else url[:150] + f"…({len(url)} chars)"
        self.failures.append(f"{method.upper()} {shown} [{label}]: {what[:240]}")

    def report(self) -> str:
        return f"{len(self.failures)} of {self.sent} requests answered 5xx:\n" + "\n".join(self.failures)


def row_counts() -> dict[str, int]:
    """Rows per table of the platform's apps and django-axes: "nothing changed" in one comparison."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in (*OUR_APPS, "axes")}
