"""What a respondent's browser makes of the public pages (docs/adr/0011): a page served away from
its visit's own address names that address, which its script writes into the address bar (or a
browser without scripts refreshes to)."""

import html
import re

_ADDRESS = re.compile(r'<meta name="visit-address" content="([^"]*)"')
_REFRESH = re.compile(r'<noscript><meta http-equiv="refresh" content="0; url=([^"]*)"></noscript>')


def visit_address(page) -> str:
    """The address the page leaves in the address bar; "" when it stays where it was served."""
    found = _ADDRESS.search(page.content.decode())
    return html.unescape(found.group(1)) if found else ""


def refreshes_to(page) -> str:
    """Where a browser without scripts goes on from the page; "" when it stays."""
    found = _REFRESH.search(page.content.decode())
    return html.unescape(found.group(1)) if found else ""


def thanked(page) -> bool:
    """The answer was taken: the thank-you page in reply, naming its own address."""
    return page.status_code == 200 and "/thanks/" in visit_address(page)


_FIELD = r'name="{}" value="([^"]*)"'


def _data(page, name: str) -> str:
    found = re.search(rf'data-{name}="([^"]*)"', page.content.decode())
    return html.unescape(found.group(1)) if found else ""


def kept_score_url(page) -> str:
    """Where the page of an e-mail's score link sends its score at once; "" for any other page."""
    return _data(page, "keep-score")


def kept_address(page) -> str:
    """The address a score link's page goes to once a save took."""
    return _data(page, "kept-address")


def keep_fields(page) -> dict:
    """What the score link page's script sends: its token, link and language, and what it saw of
    the answer."""
    body = page.content.decode()
    fields = {name: html.unescape(re.search(_FIELD.format(name), body).group(1)) for name in ("token", "c", "lang")}
    return {**fields, "seen": _data(page, "keep-seen")}


def click_score(client, url):
    """A customer's click on an e-mail's score link in a browser: the page, then the POST its
    script sends at once. Returns (page, that reply)."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return page, client.post(kept_score_url(page), keep_fields(page))
