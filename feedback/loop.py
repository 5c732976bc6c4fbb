"""The inner loop: an unhappy answer opens a case to call the customer back, a promoter is thanked,
and the customer is asked again once the case is resolved, which tells whether they were recovered.

The loop acts on an answer's final state (docs/adr/0011): the `response.recorded` event comes when
an answer is completed or abandoned, and again whenever a final answer changes. Each time the
answer is settled against the rules as it is now: a case is opened when it newly qualifies, an open
case whose answer no longer qualifies is withdrawn, an unhappy answer nobody can call back (no known
customer, or one with neither e-mail nor phone) stays an inbox item marked unreachable, and an
unsent thank-you whose answer is no longer a promoter's is cancelled. History — an imported answer,
or one given longer ago than the rule's call-back time — feeds figures only (docs/adr/0012).
Changing a rule later touches no old answer unless someone applies it to past days on purpose
(`apply_rule`). A case is the answer's inbox item promoted to kind "case" with a conditional
UPDATE, so however often the event is delivered there is at most one case per answer. E-mails
(follow-up, thanks) are claimed by a row or a timestamp first and sent after the commit. A comment's
sentiment is read by a worker after the answer (docs/adr/0021): rules that ask for a negative
comment settle the answer when `surveys.comment_read` comes, in whichever order the two arrive.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxplatform import events, wording
from cxplatform.naming import names_of_message

from . import activity, notices, routing, sla
from . import wordings as w
from .models import CloseLoopRule, FeedbackItem, Message, PromoterThanks, RootCause
from .services import CASE_OPENED, CASE_RESOLVED, Voice, comment_item, ingest

logger = logging.getLogger(__name__)

FOLLOW_UP_FIELD = "follow_up_case"  # the hidden field that marks an answer as a case's follow-up
UNHAPPY_BANDS = {"detractor", "low"}  # NPS 0–6; CSAT 1–2; CES 1–3 (surveys.services.band_for)
DEFAULT_ROOT_CAUSES = {
    gettext_lazy("Delivery"): [gettext_lazy("Late"), gettext_lazy("Damaged"), gettext_lazy("Courier's manner")],
    gettext_lazy("Product"): [gettext_lazy("Battery range"), gettext_lazy("Quality"), gettext_lazy("Price")],
    gettext_lazy("App"): [gettext_lazy("Pairing"), gettext_lazy("Bugs")],
    gettext_lazy("Service"): [gettext_lazy("Slow answer"), gettext_lazy("Repair took too long"),
                              gettext_lazy("Wrong information")],
}
HAND_ON_AFTER = timedelta(seconds=60)  # a follow-up or thank-you still unsent after this lost its task


class CaseError(ValueError):
    """The case cannot be closed as asked; the message is for the agent."""


# --- Which answers a rule takes ------------------------------------------------------------------

def _in_band(rule: CloseLoopRule, response) -> bool:
    if rule.band == CloseLoopRule.Band.UNHAPPY:
        return response.band in UNHAPPY_BANDS
    if rule.band == CloseLoopRule.Band.PROMOTER:
        return response.band == "promoter"
    return True


def matches(rule: CloseLoopRule, response) -> bool:
    if (response.hidden_fields or {}).get(FOLLOW_UP_FIELD):
        return False  # a follow-up answer closes a loop; it never opens one
    if rule.survey_id and response.survey_id != rule.survey_id:
        return False
    if rule.survey_type and response.survey.survey_type != rule.survey_type:
        return False
    if rule.touchpoint_id and response.touchpoint_id != rule.touchpoint_id:
        return False
    if rule.channel_id and response.channel_id != rule.channel_id:
        return False
    if rule.segment:
        attribute = response.organization.segment_attribute or "segment"
        value = (response.customer.attributes or {}).get(attribute) if response.customer_id else None
        if str(value or "") != rule.segment:
            return False
    if not _in_band(rule, response):
        return False
    if rule.negative_comment and response.sentiment != -1:
        return False
    if rule.keywords and not (response.comment and routing.keyword_match(rule.keywords, response.comment)):
        return False
    return response.score is not None or bool(rule.keywords or rule.negative_comment)


def _response(response_id: int, *, lock: bool = False):
    """The answer with what the rules read. `lock` holds its row until the caller's transaction
    ends, so two settlements of one answer (two quick changes, two workers) run one after the
    other and the later one reads the later state: the last word is always the answer's latest."""
    from surveys.models import Response

    # Only what every settlement reads is joined: PostgreSQL planned the seven-table join for 6 ms on
    # each answer, more than the rest of the worker's statement; the survey (a rule of one survey
    # type) and the link (a follow-up) are read when asked for.
    answers = Response.objects.select_related("organization", "customer", "touchpoint", "channel")
    if lock:
        answers = answers.select_for_update(no_key=True, of=("self",))
    return answers.filter(pk=response_id).first()


def is_imported(response) -> bool:
    from surveys.models import Response

    return response.source == Response.Source.IMPORT


def is_history(response, rule: CloseLoopRule, now=None) -> bool:
    """History feeds figures only (docs/adr/0012): an imported answer, or one given longer ago than
    the rule's call-back time — its case would be overdue the moment it opened, its thank-you would
    come out of the blue. (At least an hour, so a rule of 0 hours still sees fresh answers.)"""
    if is_imported(response):
        return True
    window = timedelta(hours=max(rule.contact_within_hours, 1))
    return (now or timezone.now()) - response.given_at >= window


def reachable(response) -> bool:
    """Whether anybody can call or write back: a known customer with an e-mail or a phone number."""
    customer = response.customer if response.customer_id else None
    return bool(customer is not None and (customer.email or customer.phone))


def _active_rules(response) -> list[CloseLoopRule]:
    # No tags prefetched: only opening a case reads them, far rarer than a settlement.
    return list(CloseLoopRule.objects.filter(organization_id=response.organization_id, active=True))


def _reads_sentiment(rules) -> bool:
    return any(rule.negative_comment for rule in rules)


def on_response(response_id: int) -> None:
    """The `response.recorded` handler: a follow-up answer updates its case; any other final answer
    is settled against the organization's rules in order (the first case rule that matches decides
    the case). An answer still in progress, and an imported one, sets off nothing. While its comment
    waits for its reading and a rule asks for a negative comment, the answer waits too: the
    `surveys.comment_read` event settles it (`on_comment_read`), whichever comes first."""
    with transaction.atomic(savepoint=False):
        response = _response(response_id, lock=True)
        if response is None or not response.is_final or is_imported(response):
            return
        # The comment's inbox item first, so a case never waits for it; kept on the answer for
        # the settlement below, which would otherwise look it up again.
        response._inbox_item = comment_item(response)
        if (response.hidden_fields or {}).get(FOLLOW_UP_FIELD):
            record_follow_up(response)
            return
        rules = _active_rules(response)
        if not response.comment_read and _reads_sentiment(rules):
            return  # settled as "not negative" now, it would withdraw a case the reading reopens
        run_rules(response, rules)


def on_comment_read(response_id: int) -> None:
    """The `surveys.comment_read` handler: the final answer's comment has its sentiment now, so the
    rules that ask for a negative comment settle it (after, or instead of, `on_response`: a case
    opened by either is the same one). Nothing to do when no rule reads the sentiment, or when the
    comment changed again since (its own reading comes)."""
    from surveys.models import Response

    # Most organizations have no rule that reads sentiment: one small query settles that before
    # the answer is fetched and locked with everything the rules read.
    if not CloseLoopRule.objects.filter(
            active=True, negative_comment=True,
            organization__in=Response.objects.filter(pk=response_id).values("organization_id")).exists():
        return
    with transaction.atomic(savepoint=False):
        response = _response(response_id, lock=True)
        if response is None or not response.is_final or is_imported(response) or not response.comment_read \
                or (response.hidden_fields or {}).get(FOLLOW_UP_FIELD):
            return
        rules = _active_rules(response)
        if _reads_sentiment(rules):
            run_rules(response, rules)


def run_rules(response, rules=None, now=None) -> FeedbackItem | None:
    """Settle a final answer as it is now: thank it once if a thank-you rule takes it (and cancel a
    thank-you not yet sent if none does any more), and make its item a case, an unreachable unhappy
    answer, or — when no case rule takes it any more — withdraw its open case."""
    now = now or timezone.now()
    rules = rules if rules is not None else _active_rules(response)
    case_rule, thanked = None, False
    for rule in rules:
        if not matches(rule, response):
            continue
        if rule.action == CloseLoopRule.Action.THANK:
            thanked = True
            if not is_history(response, rule, now):
                thank(response, rule)
        elif case_rule is None:
            case_rule = rule
    if not thanked:
        # No longer a promoter: a thank-you still unsent is dropped (sending claims the row first,
        # so one already on its way is sent and this deletes nothing).
        PromoterThanks.objects.filter(response=response, sent_at__isnull=True).delete()
    return settle_case(response, case_rule, now)


def settle_case(response, rule: CloseLoopRule | None, now=None) -> FeedbackItem | None:
    """The answer's item as `rule` (the first case rule the final answer matches, or None) wants it."""
    made = getattr(response, "_inbox_item", None)
    item = made or FeedbackItem.objects.filter(response=response).first()
    if rule is None:
        # The comment's item just made or read by this settlement, no case, not unreachable and
        # not labelled "score, no comment" from before the comment came, has nothing to stand
        # down or bring up to date (two UPDATEs that would change nothing, on most answers).
        if item is not None and not (item is made and item.kind == FeedbackItem.Kind.VOICE and not item.text_message
                                     and item.loop_state != FeedbackItem.LoopState.UNREACHABLE):
            stand_down(_answer_item(response), response)
        return None
    if is_history(response, rule, now):
        if item is not None:  # a case opened while the answer was live stays as it is
            item = _answer_item(response)
        return item if item is not None and item.kind == FeedbackItem.Kind.CASE else None
    if not reachable(response):
        return mark_unreachable(response, rule)
    return open_case(response, rule)


# --- Opening a case ------------------------------------------------------------------------------

def _answer_item(response) -> FeedbackItem:
    """The answer's inbox item (made once, keyed by the answer), its text kept to the answer's: the
    comment, or the score when there is none."""
    organization = response.organization
    said = {} if response.comment.strip() else wording.message(w.SCORE_NO_COMMENT, score=response.score)
    # `text` keeps the organization's wording (search, sentiment); pages show `said` in the reader's.
    text = response.comment.strip() or wording.text(said, language=organization.default_language
                                                    or settings.LANGUAGE_CODE)
    known = getattr(response, "_inbox_item", None)
    if known is not None and known.text == text and known.text_message == said:
        return known  # made (or brought up to date) by this settlement already
    item, _created = ingest(organization, Voice(
        source=FeedbackItem.Source.SURVEY, source_id=f"response:{response.pk}", text=text,
        received_at=response.given_at, rating=response.score,
        language=response.language, channel=response.channel, touchpoint=response.touchpoint,
        customer=response.customer, response_id=response.pk))
    if item.text_message != said:  # the customer added (or removed) a comment since
        FeedbackItem.objects.filter(pk=item.pk).update(text_message=said)
        item.text_message = said
    response._inbox_item = item
    return item


def open_case(response, rule: CloseLoopRule) -> FeedbackItem:
    """The answer's inbox item, made a case of `rule` (once), with the rule's tags, priority, team
    and agent, and its inner-loop clock: contact within, close within so many hours. An item that
    was done with (a withdrawn case, a resolved comment) is opened again: the answer qualifies now."""
    item = _answer_item(response)
    done = Q(status__in=sla.DONE)
    first_response_due, resolution_due = sla.case_due_times(item.received_at, rule)
    # No savepoint of its own (nor in the handlers above): nobody catches a failure half-way and
    # goes on in the same transaction, so the caller's transaction is all that needs undoing.
    with transaction.atomic(savepoint=False):
        # The clock is the rule's (sla.due_times), set with the promotion: no policy to read.
        promoted = FeedbackItem.objects.filter(pk=item.pk, kind=FeedbackItem.Kind.VOICE).update(
            kind=FeedbackItem.Kind.CASE, loop_rule=rule, loop_state=FeedbackItem.LoopState.NONE,
            priority=rule.priority, team=rule.team if rule.team_id else F("team"), sla_state="",
            status=Case(When(done, then=Value(FeedbackItem.Status.NEW)), default=F("status")),
            resolved_at=Case(When(done, then=Value(None)), default=F("resolved_at")),
            first_response_due=first_response_due, resolution_due=resolution_due,
            version=F("version") + 1)
        if not promoted:
            return FeedbackItem.objects.get(pk=item.pk)  # already a case: a redelivered event
        item.refresh_from_db()  # the row as promoted (held by the UPDATE until commit)
        item.organization, item.loop_rule = response.organization, rule  # known: no query for either
        tags = list(rule.tags.all())
        if tags:
            item.tags.add(*tags)
        if rule.team_id and rule.assign:
            agent = routing.pick_agent(rule.team, rule.assign)
            if agent is not None:
                FeedbackItem.objects.filter(pk=item.pk).update(assignee=agent)
                item.assignee = agent
                notices.item_given(item, to=agent, rule=rule)
        activity.log(item, "loop_opened", wording.message(w.LOOP_OPENED, rule=rule.name), details={
            "rule": rule.name, "score": response.score, "band": response.band})
        events.emit(CASE_OPENED, organization=item.organization, item_id=item.pk)
    return item


def mark_unreachable(response, rule: CloseLoopRule) -> FeedbackItem:
    """An unhappy answer nobody can call back is no call-back case: it stays the answer's inbox item
    (its comment, or its score), read and counted like any other, marked so the loop figures can
    say how many unhappy answers were unreachable. A case already open stays a case."""
    item = _answer_item(response)
    with transaction.atomic(savepoint=False):
        marked = (FeedbackItem.objects.filter(pk=item.pk, kind=FeedbackItem.Kind.VOICE)
                  .exclude(loop_state=FeedbackItem.LoopState.UNREACHABLE)
                  .update(loop_state=FeedbackItem.LoopState.UNREACHABLE, loop_rule=rule,
                          status=Case(When(loop_state=FeedbackItem.LoopState.WITHDRAWN,
                                           then=Value(FeedbackItem.Status.NEW)), default=F("status")),
                          version=F("version") + 1))
        if marked:
            activity.log(item, "loop_unreachable", wording.message(w.LOOP_UNREACHABLE), details={
                "rule": rule.name, "score": response.score, "band": response.band})
    item.refresh_from_db()
    return item


def stand_down(item: FeedbackItem, response) -> bool:
    """The final answer no longer takes a case rule (the customer changed the score to 10): its open
    case is withdrawn — closed, off the loop's figures and clocks, with the reason in its activity —
    and an unreachable mark is dropped. A resolved case is the loop's history and stays."""
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        withdrawn = FeedbackItem.objects.filter(
            pk=item.pk, kind=FeedbackItem.Kind.CASE, status__in=sla.OPEN).update(
            kind=FeedbackItem.Kind.VOICE, status=FeedbackItem.Status.CLOSED,
            loop_state=FeedbackItem.LoopState.WITHDRAWN, first_response_due=None, resolution_due=None,
            sla_state="", version=F("version") + 1, updated_at=now)
        cleared = 0 if withdrawn else FeedbackItem.objects.filter(
            pk=item.pk, loop_state=FeedbackItem.LoopState.UNREACHABLE).update(
            loop_state=FeedbackItem.LoopState.NONE, version=F("version") + 1, updated_at=now)
        if withdrawn or cleared:
            if response.score is None:
                said = wording.message(w.WITHDRAWN_ANSWER if withdrawn else w.NO_LONGER_UNHAPPY_ANSWER)
            else:
                said = wording.message(w.WITHDRAWN if withdrawn else w.NO_LONGER_UNHAPPY, score=response.score)
            activity.log(item, "loop_withdrawn", said, details={
                "score": response.score, "band": response.band, "was": "case" if withdrawn else "unreachable"})
    return bool(withdrawn or cleared)


def apply_rule(rule: CloseLoopRule, days: int) -> int:
    """Run one rule over the answers of the last `days` days (asked for on purpose: a rule changed
    later never reopens old answers by itself). Returns how many cases it opened or thanks it queued."""
    from surveys.models import Response

    since = timezone.now() - timedelta(days=days)
    done = 0
    # Final answers only, and never imported ones (docs/adr/0012); the manager chose the days.
    answers = (Response.objects.filter(organization_id=rule.organization_id)
               .exclude(status=Response.Status.STARTED).exclude(source=Response.Source.IMPORT)
               .annotate(given=Coalesce("submitted_at", "started_at")).filter(given__gte=since)
               .select_related("organization", "survey", "customer").order_by("given", "pk"))
    for response in answers.iterator(chunk_size=500):
        if not matches(rule, response):
            continue
        if rule.action == CloseLoopRule.Action.THANK:
            done += thank(response, rule)
        elif not reachable(response):
            mark_unreachable(response, rule)
        elif not FeedbackItem.objects.filter(response=response, kind=FeedbackItem.Kind.CASE).exists():
            open_case(response, rule)
            done += 1
    return done


# --- Working a case ------------------------------------------------------------------------------

def log_call(item: FeedbackItem, agent, note: str, *, reached: bool) -> Message:
    """An agent called the customer: the call goes into the conversation; reaching the customer
    is the contact the inner loop's clock asks for."""
    note = (note or "").strip()
    if not note:
        raise CaseError(_("Write down what was said on the call (or that nobody answered)."))
    now = timezone.now()
    with transaction.atomic():
        message = Message.objects.create(organization_id=item.organization_id, item=item,
                                         direction=Message.Direction.OUT, via=Message.Via.CALL, author=agent,
                                         text=note[:20_000], status=Message.Status.SENT, sent_at=now)
        if reached:
            FeedbackItem.objects.filter(pk=item.pk).update(
                first_responded_at=Coalesce(F("first_responded_at"), Value(now)), updated_at=now)
            FeedbackItem.objects.filter(pk=item.pk, status=FeedbackItem.Status.NEW).update(
                status=FeedbackItem.Status.OPEN, version=F("version") + 1)
        activity.log(item, "called", wording.message(w.CALLED_REACHED if reached else w.CALLED_NO_ANSWER),
                     actor=agent, details={"reached": reached, "message": message.pk})
    item.refresh_from_db()
    return message


def resolve_case(item: FeedbackItem, actor, version: int, *, root_cause: RootCause | None, note: str,
                 follow_up: bool = False) -> FeedbackItem:
    """Close the loop: why the customer was unhappy and what was done are both required. With
    `follow_up`, the customer is asked the survey's question again by e-mail after the commit."""
    from .services import StaleEdit

    if item.kind != FeedbackItem.Kind.CASE and item.loop_state != FeedbackItem.LoopState.UNREACHABLE:
        raise CaseError(_("Only a closed-loop case is resolved this way."))
    if root_cause is None or root_cause.organization_id != item.organization_id or not root_cause.active:
        raise CaseError(_("Choose why the customer was unhappy (the root cause)."))
    note = (note or "").strip()
    if not note:
        raise CaseError(_("Write down what was done for the customer."))
    now = timezone.now()
    with transaction.atomic():
        updated = FeedbackItem.objects.filter(pk=item.pk, version=version).update(
            status=FeedbackItem.Status.RESOLVED, root_cause=root_cause, resolution_note=note[:20_000],
            resolved_at=Coalesce(F("resolved_at"), Value(now)),
            first_responded_at=Coalesce(F("first_responded_at"), Value(now)),
            follow_up_wanted=follow_up and can_follow_up(item), version=F("version") + 1, updated_at=now)
        if not updated:
            raise StaleEdit()
        if item.status not in sla.DONE:
            from .services import item_resolved

            item_resolved(item)
        activity.log(item, "loop_closed", wording.message(
            w.LOOP_CLOSED_FOLLOW_UP if follow_up and can_follow_up(item) else w.LOOP_CLOSED,
            root_cause=str(root_cause)), actor=actor, details={"root_cause": str(root_cause), "follow_up": follow_up})
        if item.status not in sla.DONE:  # resolved now, not saved again
            events.emit(CASE_RESOLVED, organization=item.organization, item_id=item.pk)
        if follow_up and can_follow_up(item):
            transaction.on_commit(lambda: _enqueue("send_follow_up", item.pk))
    item.refresh_from_db()
    return item


def _enqueue(task_name: str, pk: int) -> None:
    from . import tasks

    try:
        getattr(tasks, task_name).apply_async(args=[pk])
    except Exception:  # the broker is down; the beat's hand-on retries later
        logger.warning("could not enqueue %s(%s)", task_name, pk, exc_info=True)


# --- Asking again: the follow-up -----------------------------------------------------------------

def can_follow_up(item: FeedbackItem) -> bool:
    """A case can be followed up by e-mail when its answer had a score, came through a link, and
    the customer has an address."""
    return bool(item.kind == FeedbackItem.Kind.CASE and item.response_id and item.response.distribution_id
                and item.response.score is not None and item.customer_id and item.customer.email)


def send_follow_up(item_id: int) -> bool:
    """E-mail the customer the original question with one-click scores that carry the case. The
    claim (follow_up_sent_at) is taken first and released if the mail fails, so a retried task
    sends it once."""
    from surveys import links
    from surveys.models import SCALES
    from surveys.services import localized

    item = FeedbackItem.objects.select_related("organization", "customer", "response__survey",
                                               "response__distribution").filter(pk=item_id).first()
    if item is None or not item.follow_up_wanted or not can_follow_up(item):
        return False
    if not FeedbackItem.objects.filter(pk=item.pk, follow_up_sent_at__isnull=True).update(
            follow_up_sent_at=timezone.now()):
        return False
    response, customer = item.response, item.customer
    survey, distribution = response.survey, response.distribution
    language = customer.language or response.language or item.organization.default_language
    signed = links.sign(distribution, customer=customer, hidden={FOLLOW_UP_FIELD: item.pk}, language=language)
    low, high = SCALES.get(survey.survey_type, (1, 5))
    base = settings.SITE_URL.rstrip("/")
    scores = "\n".join(f"{score}: {base}{links.one_click_url(distribution, score, signed)}"
                       for score in range(low, high + 1))
    with translation.override(language):
        subject = _("Did we solve your problem? (%(organization)s)") % {"organization": item.organization.name}
        body = _("Hello %(name)s,\n\nwe have worked on what you told us. Did we solve your problem? "
                 "Please answer the question once more with one click:\n\n%(question)s\n\n%(scores)s\n\n"
                 "Thank you,\n%(organization)s") % {
            "name": customer.name or "", "question": localized(survey.score_question, language),
            "scores": scores, "organization": item.organization.name}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email])
    except Exception:
        FeedbackItem.objects.filter(pk=item.pk).update(follow_up_sent_at=None)
        raise
    activity.log(item, "follow_up_sent", wording.message(w.FOLLOW_UP_SENT, to=customer.email),
                 details={"to": customer.email})
    return True


def record_follow_up(response) -> FeedbackItem | None:
    """The customer answered the follow-up: keep the new score on the case; the customer is
    recovered when it is better than the first one. Only the case's own customer can answer it."""
    try:
        case_id = int(response.hidden_fields.get(FOLLOW_UP_FIELD))
    except (TypeError, ValueError):
        return None
    item = (FeedbackItem.objects.select_related("response")
            .filter(pk=case_id, organization_id=response.organization_id, kind=FeedbackItem.Kind.CASE).first())
    if item is None or item.response is None or response.score is None \
            or item.customer_id is None or response.customer_id != item.customer_id:
        return None
    recovered = item.response.score is not None and response.score > item.response.score
    FeedbackItem.objects.filter(pk=item.pk).update(follow_up_score=response.score, recovered=recovered)
    activity.log(item, "follow_up_answered", wording.message(
        w.FOLLOW_UP_RECOVERED if recovered else w.FOLLOW_UP_NOT_RECOVERED, score=response.score),
        details={"score": response.score, "recovered": recovered})
    item.refresh_from_db()
    return item


# --- Promoters -----------------------------------------------------------------------------------

def thank(response, rule: CloseLoopRule) -> int:
    """Queue one thank-you per answer (1 when queued now, 0 when there was one or no address)."""
    email = response.customer.email if response.customer_id else ""
    if not email:
        return 0
    try:
        with transaction.atomic():
            thanks = PromoterThanks.objects.create(organization_id=response.organization_id, response=response,
                                                   rule=rule, to_address=email)
    except IntegrityError:
        return 0
    transaction.on_commit(lambda: _enqueue("send_thanks", thanks.pk))
    return 1


def send_thanks(thanks_id: int) -> bool:
    thanks = PromoterThanks.objects.select_related("organization", "rule", "response__customer").filter(
        pk=thanks_id).first()
    if thanks is None or not PromoterThanks.objects.filter(pk=thanks_id, sent_at__isnull=True).update(
            sent_at=timezone.now()):
        return False
    customer = thanks.response.customer
    language = (customer.language if customer else "") or thanks.response.language
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = _("Thank you from %(organization)s") % {"organization": thanks.organization.name}
        body = _("Hello %(name)s,\n\nthank you for your kind answer — it means a lot to our team.") % {
            "name": customer.name if customer else ""}
        if thanks.rule and thanks.rule.review_url:
            body += "\n\n" + _("Would you tell others too? A short review helps us a lot: %(url)s") % {
                "url": thanks.rule.review_url}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [thanks.to_address])
    except Exception:
        PromoterThanks.objects.filter(pk=thanks_id).update(sent_at=None)
        raise
    return True


def hand_on_lost(now=None) -> int:
    """The beat's hand-on: follow-ups and thank-yous whose task never ran (a broker outage)."""
    now = now or timezone.now()
    before = now - HAND_ON_AFTER
    follow_ups = FeedbackItem.objects.filter(follow_up_wanted=True, follow_up_sent_at__isnull=True,
                                             resolved_at__lt=before).values_list("pk", flat=True)[:500]
    thanks = PromoterThanks.objects.filter(sent_at__isnull=True, created_at__lt=before).values_list(
        "pk", flat=True)[:500]
    for pk in follow_ups:
        _enqueue("send_follow_up", pk)
    for pk in thanks:
        _enqueue("send_thanks", pk)
    return len(follow_ups) + len(thanks)


def ensure_root_causes(organization) -> None:
    """Seed a starting tree of root causes (in the organization's language) the first time."""
    if RootCause.objects.filter(organization=organization).exists():
        return
    with translation.override(organization.default_language or "en"):
        for parent, children in DEFAULT_ROOT_CAUSES.items():
            top = RootCause.objects.create(organization=organization, name=str(parent),
                                           names=names_of_message(parent))
            RootCause.objects.bulk_create([RootCause(organization=organization, parent=top, name=str(child),
                                                     names=names_of_message(child)) for child in children])
