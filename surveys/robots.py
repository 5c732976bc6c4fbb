"""Visits no person made: link previews (Slack, WhatsApp, Teams, Facebook, LinkedIn, Telegram),
search crawlers, HTTP libraries, headless browsers and Office's link check that say what they
are. They are shown the page as anyone is (a chat's preview needs its title), but an opening is a
customer's: a robot's counts no opening of the link (the response rate divides by openings), no
opening of an invitation (its funnel), and keeps no score of an e-mail's score link
(docs/adr/0036).

Known robots are recognised by their User-Agent, against crawler-user-agents' list (kept by its
community, about 1,500 patterns; pinned, so a new list comes with a test run), less the patterns
that also match people's in-app browsers, plus a few the list lacks. A scanner that passes for a
person's browser is not caught here; a score link never records on opening for that reason
(docs/adr/0004)."""

import re
from functools import cache, lru_cache

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

# A User-Agent is at most a few hundred characters; a longer one is read that far.
READ_CHARS = 512
# The list's patterns that people's in-app browsers match too: Facebook's ("… MetaIAB Facebook")
# and Viber's and WhatsApp's (their name at the end of a phone browser's User-Agent).
PEOPLES_APPS = {"MetaIAB Facebook", "Viber", "WhatsApp"}
ROBOTS_TOO = [
    r"^Viber", r"^WhatsApp/",  # their link previews: the name comes first
    r"ms-office|MSOffice|Microsoft Office",  # Office fetches a link before it opens the browser
]
CHUNK = 25  # patterns per expression, as the package does: one giant alternation is slower


@cache
def _expressions() -> list[re.Pattern]:
    patterns = [entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA if entry["pattern"] not in PEOPLES_APPS]
    patterns += ROBOTS_TOO
    return [re.compile("|".join(patterns[n:n + CHUNK])) for n in range(0, len(patterns), CHUNK)]


def is_robot(request) -> bool:
    return _known_robot(request.headers.get("User-Agent", "")[:READ_CHARS])


@lru_cache(maxsize=4096)
def _known_robot(user_agent: str) -> bool:
    # ~60 expressions, ~0.2 ms for a person's browser (every one is tried), once per User-Agent.
    return bool(user_agent) and any(expression.search(user_agent) for expression in _expressions())
