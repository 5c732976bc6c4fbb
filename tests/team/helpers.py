"""Shared by the team administration tests: reading links out of e-mails, audit entries."""

import re

from django.core import mail

from cxplatform.models import AuditEntry

LINK = re.compile(r"https?://\S+")


def link_in(message) -> str:
    body = message.body if hasattr(message, "body") else message
    return LINK.search(body).group(0)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def last_mail_to(address: str):
    found = [m for m in mail.outbox if address in m.to]
    assert found, f"no e-mail to {address}: {[m.to for m in mail.outbox]}"
    return found[-1]


def actions(organization, action=None):
    entries = AuditEntry.objects.filter(organization=organization)
    if action:
        entries = entries.filter(action=action)
    return list(entries.order_by("created_at", "id"))
