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
