"""Visits no person made: link previews (Slack, WhatsApp, Teams, Facebook, LinkedIn, Telegram),
search crawlers, HTTP libraries and headless browsers that say what they are. They are shown the
page as anyone is (a chat's preview needs its title), but an opening is a customer's: a robot's
counts no opening of the link (the response rate divides by openings), no opening of an
invitation (its funnel), and keeps no score of an e-mail's score link (docs/adr/0036).

Known robots are recognised by their User-Agent, against crawler-user-agents' list (kept by its
community, about 1,500 patterns). A scanner that passes for a person's browser is not caught
here; a score link never records on opening for that reason (docs/adr/0004)."""

from functools import lru_cache

from crawleruseragents import is_crawler

# A User-Agent is at most a few hundred characters; a longer one is read that far.
READ_CHARS = 512


def is_robot(request) -> bool:
    return _known_robot(request.headers.get("User-Agent", "")[:READ_CHARS])


@lru_cache(maxsize=4096)
def _known_robot(user_agent: str) -> bool:
    # The list is ~60 regular expressions of 25 patterns each, ~0.2 ms for a person's browser
    # (every one is tried): a page's visitors come with a few hundred User-Agents, read once each.
    return bool(user_agent) and is_crawler(user_agent)
