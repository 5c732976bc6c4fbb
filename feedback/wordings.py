"""What the inbox writes — its activity log, case texts, mentions — as message ids with
parameters, rendered in the reader's language (cxplatform.wording; docs/adr/0015). Names people
gave (rules, teams, tags, root causes) are parameters shown as they were written."""

from django.utils.translation import gettext_lazy as _

from cxplatform import wording
from cxplatform.wording import choice, messages, moment, person, quoted

from .models import FeedbackItem


def _statuses():
    return FeedbackItem.Status.choices


def _priorities():
    return FeedbackItem.Priority.choices


def _sources():
    return FeedbackItem.Source.choices


def _in_reader_language(texts) -> str:
    """A text the organization wrote in several languages ({"en": …, "lv": …}): the reader's."""
    from django.utils.translation import get_language

    from surveys.services import localized

    return localized(texts if isinstance(texts, dict) else {"en": str(texts or "")}, (get_language() or "en")[:2])


status = choice(_statuses)
priority = choice(_priorities)

# Case texts
SCORE_NO_COMMENT = wording.define("feedback.score_no_comment", _("Score %(score)s, no comment."))

OFFER_ACCEPTED = wording.define(
    "feedback.offer_accepted",
    _("Accepted a retention offer instead of leaving: “%(offer)s”. Make it happen and confirm it."),
    offer=_in_reader_language)

# Notifications
MENTION = wording.define("feedback.mention", _("%(who)s mentioned you in a note on item #%(item)s."), who=person)
ITEM_GIVEN = wording.define("feedback.item_given", _("%(who)s gave you item #%(item)s."), who=person)
ITEMS_GIVEN = wording.define("feedback.items_given", _("%(who)s gave you items %(items)s."), who=person)
ITEM_ROUTED_TO_YOU = wording.define("feedback.item_routed_to_you",
                                    _("Item #%(item)s was given to you by the rule %(rule)s."), rule=quoted)
CASE_GIVEN = wording.define("feedback.case_given",
                            _("Call-back case #%(item)s was given to you by the rule %(rule)s."), rule=quoted)
SLA_AT_RISK_NOTICE = wording.define("feedback.sla_at_risk_notice",
                                    _("Item #%(item)s is about to breach its SLA (due %(due)s)."), due=moment)
SLA_BREACHED_NOTICE = wording.define("feedback.sla_breached_notice",
                                     _("Item #%(item)s breached its SLA (it was due %(due)s)."), due=moment)

# The activity log: one entry per action, its detail in the parameters
RECEIVED = wording.define("feedback.received", _("Received from %(source)s."), source=choice(_sources))
TEXT_UPDATED = wording.define("feedback.text_updated", _("The source changed the text."))
TRIAGED = wording.define("feedback.triaged", _("%(changes)s."), changes=messages)
CHANGE_STATUS = wording.define("feedback.change.status", _("Status: %(before)s → %(after)s"),
                               before=status, after=status)
CHANGE_PRIORITY = wording.define("feedback.change.priority", _("Priority: %(before)s → %(after)s"),
                                 before=priority, after=priority)
CHANGE_TEAM = wording.define("feedback.change.team", _("Team: %(before)s → %(after)s"))
ASSIGNED = wording.define("feedback.change.assigned", _("Assigned to %(assignee)s"))
UNASSIGNED = wording.define("feedback.change.unassigned", _("Unassigned"))
TAGS = wording.define("feedback.change.tags", _("Tags: %(tags)s"))
ROUTED = wording.define("feedback.routed", _("Routed by rule %(rule)s: %(changes)s."), rule=quoted,
                        changes=messages)
ROUTED_TO_TEAM = wording.define("feedback.route.team", _("to team %(team)s"))
ROUTED_TO_AGENT = wording.define("feedback.route.assignee", _("assigned to %(assignee)s"))
ROUTED_PRIORITY = wording.define("feedback.route.priority", _("priority %(priority)s"), priority=priority)
ROUTED_TAGS = wording.define("feedback.route.tags", _("tagged %(tags)s"))
ROUTED_NOTHING = wording.define("feedback.route.nothing", _("nothing to change"))
NOTED = wording.define("feedback.noted", _("Added an internal note."))
NOTED_MENTIONING = wording.define("feedback.noted_mentioning", _("Added an internal note mentioning %(people)s."))
REPLIED = wording.define("feedback.replied", _("Replied to the customer."))
REPLIED_MOVED = wording.define("feedback.replied_moved", _("Replied to the customer; status: %(status)s."),
                               status=status)
REPLY_FAILED = wording.define("feedback.reply_failed",
                              _("The reply could not be sent to the customer, even after several tries."))
CUSTOMER_REPLIED = wording.define("feedback.customer_replied", _("The customer wrote again."))
REOPENED = wording.define("feedback.reopened", _("The customer wrote again: reopened (it was %(was)s)."),
                          was=status)
LOOP_OPENED = wording.define("feedback.loop_opened", _("Call-back case opened (rule “%(rule)s”)."))
LOOP_UNREACHABLE = wording.define(
    "feedback.loop_unreachable",
    _("Unhappy answer with nobody to call back: the customer is not known, or left neither an "
      "e-mail address nor a phone number. It stays here as feedback."))
WITHDRAWN = wording.define("feedback.loop_withdrawn",
                           _("Withdrawn: the customer changed the score to %(score)s."))
WITHDRAWN_ANSWER = wording.define("feedback.loop_withdrawn_answer",
                                  _("Withdrawn: the customer changed the answer."))
NO_LONGER_UNHAPPY = wording.define("feedback.no_longer_unhappy",
                                   _("No longer unhappy: the customer changed the score to %(score)s."))
NO_LONGER_UNHAPPY_ANSWER = wording.define("feedback.no_longer_unhappy_answer",
                                          _("No longer unhappy: the customer changed the answer."))
CALLED_REACHED = wording.define("feedback.called", _("Called the customer and reached them."))
CALLED_NO_ANSWER = wording.define("feedback.called_no_answer", _("Called the customer: nobody answered."))
LOOP_CLOSED = wording.define("feedback.loop_closed", _("Loop closed: root cause %(root_cause)s."),
                             root_cause=quoted)
LOOP_CLOSED_FOLLOW_UP = wording.define(
    "feedback.loop_closed_follow_up",
    _("Loop closed: root cause %(root_cause)s; the customer will be asked again."), root_cause=quoted)
FOLLOW_UP_SENT = wording.define("feedback.follow_up_sent", _("Follow-up question sent to %(to)s."))
FOLLOW_UP_RECOVERED = wording.define("feedback.follow_up_recovered",
                                     _("Follow-up answered with %(score)s: the customer is recovered."))
FOLLOW_UP_NOT_RECOVERED = wording.define("feedback.follow_up_not_recovered",
                                         _("Follow-up answered with %(score)s: not recovered."))
SLA_AT_RISK = wording.define("feedback.sla_at_risk", _("About to breach its SLA (due %(due)s)."), due=moment)
SLA_BREACHED = wording.define("feedback.sla_breached", _("Breached its SLA (it was due %(due)s)."), due=moment)
