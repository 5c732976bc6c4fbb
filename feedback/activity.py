"""The item's activity log: every entry is written here with what it says (a message id and its
parameters, feedback.wordings) and read back in the reader's language (docs/adr/0015).

Entries written before messages existed carry only their action and details: they read as a
sentence built from those — never as a raw code.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxplatform import wording

from . import wordings as w
from .models import ItemEvent


def log(item, action: str, message: dict, *, actor=None, details: dict | None = None) -> ItemEvent:
    """Write one entry: `action` and `details` for code, `message` (wording.message) for people."""
    return ItemEvent.objects.create(item=item, actor=actor if getattr(actor, "is_authenticated", False) else None,
                                    action=action, details=details or {}, message=message)


def entry(item, action: str, message: dict, *, actor=None, details: dict | None = None) -> ItemEvent:
    """An unsaved entry, for bulk writes (the demo)."""
    return ItemEvent(item=item, actor=actor, action=action, details=details or {}, message=message)


def name_of(obj) -> str:
    """A person or a team as the log names it: as they are called at the time."""
    if obj is None:
        return ""
    if hasattr(obj, "get_full_name"):
        return obj.get_full_name() or obj.get_username()
    return str(obj)


def change_messages(before: dict, after: dict) -> list[dict]:
    """The changes of a triage or a bulk edit, each as its own message, in a fixed order.
    `before`/`after` hold status, priority (codes), team, assignee (objects) and tags (names)."""
    parts = []
    for name, wording_id in (("status", w.CHANGE_STATUS), ("priority", w.CHANGE_PRIORITY)):
        if name in after and after[name] != before.get(name):
            parts.append(wording.message(wording_id, before=before.get(name), after=after[name]))
    if "team" in after and after["team"] != before.get("team"):
        parts.append(wording.message(w.CHANGE_TEAM, before=name_of(before.get("team")),
                                     after=name_of(after["team"])))
    if "assignee" in after and after["assignee"] != before.get("assignee"):
        parts.append(wording.message(w.ASSIGNED, assignee=name_of(after["assignee"])) if after["assignee"]
                     else wording.message(w.UNASSIGNED))
    if "tags" in after and sorted(after["tags"]) != sorted(before.get("tags") or []):
        parts.append(wording.message(w.TAGS, tags=sorted(after["tags"])))
    return parts


def describe(event: ItemEvent) -> str:
    """What the entry says, in the active language."""
    fallback = _legacy(event)
    if event.message:
        return wording.text(event.message, fallback=fallback) or fallback
    return fallback


# --- Entries written before messages existed ---------------------------------------------------

LABELS = {
    "received": gettext_lazy("Received."),
    "text_updated": w.TEXT_UPDATED,
    "triaged": gettext_lazy("Triaged."),
    "routed": gettext_lazy("Routed by a rule."),
    "noted": w.NOTED,
    "replied": w.REPLIED,
    "reply_failed": w.REPLY_FAILED,
    "customer_replied": w.CUSTOMER_REPLIED,
    "reopened": gettext_lazy("The customer wrote again: reopened."),
    "loop_opened": gettext_lazy("Call-back case opened."),
    "loop_unreachable": w.LOOP_UNREACHABLE,
    "loop_withdrawn": w.WITHDRAWN_ANSWER,
    "called": gettext_lazy("Called the customer."),
    "loop_closed": gettext_lazy("Loop closed."),
    "follow_up_sent": gettext_lazy("Follow-up question sent."),
    "follow_up_answered": gettext_lazy("Follow-up answered."),
    "sla_at_risk": gettext_lazy("About to breach its SLA."),
    "sla_breached": gettext_lazy("Breached its SLA."),
}


def _legacy(event: ItemEvent) -> str:
    details = event.details or {}
    rebuilt = _rebuilt(event.action, details)
    if rebuilt:
        return rebuilt
    label = LABELS.get(event.action)
    if label is None:
        return _("Changed (%(what)s).") % {"what": event.action.replace("_", " ")}
    return wording.render(label) if isinstance(label, str) and wording.is_defined(label) else str(label)


def _rebuilt(action: str, details: dict) -> str:
    """The old entry's sentence where its details say enough (they kept codes and names, not ids'
    meanings: a team or an agent stored as an id is left out)."""
    try:
        if action == "received" and details.get("source"):
            return wording.render(w.RECEIVED, {"source": details["source"]})
        if action == "triaged":
            after = {k: details[k] for k in ("status", "priority") if details.get(k) is not None}
            after = {k: (int(v) if k == "priority" else v) for k, v in after.items()}
            parts = change_messages({}, after)
            if details.get("tags") is not None:
                parts.append(wording.message(w.TAGS, tags=details["tags"]))
            return wording.render(w.TRIAGED, {"changes": parts}) if parts else ""
        if action == "routed" and details.get("rule"):
            parts = []
            if details.get("priority") is not None:
                parts.append(wording.message(w.ROUTED_PRIORITY, priority=details["priority"]))
            if details.get("tags"):
                parts.append(wording.message(w.ROUTED_TAGS, tags=details["tags"]))
            if not parts:
                parts.append(wording.message(w.ROUTED_NOTHING))
            return wording.render(w.ROUTED, {"rule": details["rule"], "changes": parts})
        if action == "loop_opened" and details.get("rule"):
            return wording.render(w.LOOP_OPENED, {"rule": details["rule"]})
        if action == "loop_withdrawn":
            score, was_unreachable = details.get("score"), details.get("was") == "unreachable"
            if score is None:
                return wording.render(w.NO_LONGER_UNHAPPY_ANSWER if was_unreachable else w.WITHDRAWN_ANSWER)
            return wording.render(w.NO_LONGER_UNHAPPY if was_unreachable else w.WITHDRAWN, {"score": score})
        if action == "called" and "reached" in details:
            return wording.render(w.CALLED_REACHED if details["reached"] else w.CALLED_NO_ANSWER)
        if action == "loop_closed" and details.get("root_cause"):
            return wording.render(w.LOOP_CLOSED_FOLLOW_UP if details.get("follow_up") else w.LOOP_CLOSED,
                                  {"root_cause": details["root_cause"]})
        if action == "follow_up_sent" and details.get("to"):
            return wording.render(w.FOLLOW_UP_SENT, {"to": details["to"]})
        if action == "follow_up_answered" and details.get("score") is not None:
            return wording.render(w.FOLLOW_UP_RECOVERED if details.get("recovered") else w.FOLLOW_UP_NOT_RECOVERED,
                                  {"score": details["score"]})
        if action in ("sla_at_risk", "sla_breached") and details.get("due"):
            return wording.render(w.SLA_AT_RISK if action == "sla_at_risk" else w.SLA_BREACHED,
                                  {"due": details["due"]})
        if action == "reopened" and details.get("was"):
            return wording.render(w.REOPENED, {"was": details["was"]})
        if action == "replied" and details.get("status"):
            return wording.render(w.REPLIED_MOVED, {"status": details["status"]})
    except (TypeError, ValueError):
        return ""
    return ""

