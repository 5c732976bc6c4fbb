"""A real HTTP receiver on loopback that checks our webhooks as the README tells receivers to.

Its `verify` is the README's own snippet (read from README.md and run), so these tests prove that
the documented check accepts what the platform sends and refuses replays and tampering.
"""

import contextlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def documented_verify():
    """The `verify` function of README's "Webhooks" section."""
    text = README.read_text()
    section = text.split("## Webhooks", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(code, "README.md#webhooks", "exec"), namespace)  # noqa: S102 — our own README's snippet
    return namespace["verify"]


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: bool
    answered: int


@dataclass
class Receiver:
    secret: str = ""
    # Codes to answer in turn; the last one repeats. A verified request gets them; a refused one 401.
    answers: list = field(default_factory=lambda: [200])
    received: list = field(default_factory=list)
    url: str = ""

    def __post_init__(self):
        self.verify = documented_verify()
        self.lock = threading.Lock()

    def answer_for(self, verified: bool) -> int:
        with self.lock:
            if not verified:
                return 401
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    @property
    def accepted(self) -> list:
        return [r for r in self.received if r.verified]


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 — http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            verified = receiver.verify(receiver.secret, body, self.headers.get("X-CX-Signature", ""))
            code = receiver.answer_for(verified)
            receiver.received.append(Received(self.path, dict(self.headers), body, verified, code))
            reply = b'{"ok": true}' if code < 300 else b'{"error": "' + (b"bad signature" if not verified
                                                                         else b"receiver down") + b'"}'
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *_args):
            pass

    return Handler


@contextlib.contextmanager
def running_receiver(**kwargs):
    receiver = Receiver(**kwargs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cx"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
