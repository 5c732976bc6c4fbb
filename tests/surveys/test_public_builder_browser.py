"""A customer answers a three-page survey with logic on a phone, in Russian, with the keyboard
alone: one page at a time, the follow-up question hidden and shown as the answers change, an
earlier answer piped into a later question, a refused answer announced and focused, and the
branch not taken never stored. axe-core finds nothing serious on any page (issue 17)."""

import re
import uuid

import pytest
from django.utils import translation
from playwright.sync_api import expect

from bench.public_page import ten_question_survey
from surveys import links
from surveys.models import Response
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

def progress(n, total, language="ru") -> str:
    """The progress line as the page writes it (in whatever the catalogs hold for the language)."""
    with translation.override(language):
        return translation.gettext("Page {n} of {total}").replace("{n}", str(n)).replace("{total}", str(total))


def serious_violations(page) -> list[str]:
    """What axe-core finds serious or critical on the page as it stands. Injected by Playwright (its
    evaluation is not the page's script, so the page's policy stays as customers get it)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_a_multi_page_survey_with_logic_on_a_phone_in_russian_by_keyboard(live_server, browser, org_a, artifact):
    customer = factories.customer(org_a)
    customer.name = "Анна"
    customer.language = "ru"
    customer.save()
    survey, link = ten_question_survey(org_a)
    url = live_server.url + links.survey_url(link, links.sign(link, customer))
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                locale="ru-RU", extra_http_headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    page = phone.new_page()
    page.goto(url)
    keys = page.keyboard

    # Page 1 of 2 so far: the score, its follow-up, the reason. Later pages wait.
    expect(page.locator("#page-1")).to_be_visible()
    expect(page.locator("#page-2")).to_be_hidden()
    expect(page.locator("#progress")).to_have_text(progress(1, 3))
    assert serious_violations(page) == []
    page.locator("input[name=score][value='0']").focus()
    for _ in range(3):
        keys.press("ArrowRight")  # a radio group answers to the arrows: 3, a detractor
    expect(page.locator("input[name=score][value='3']")).to_be_checked()
    expect(page.locator("#follow-up")).to_contain_text("Нам жаль это слышать")
    keys.press("Tab")
    expect(page.locator("#comment")).to_be_focused()
    keys.type("Самокат сломался")
    keys.press("Tab")
    first_reason = page.locator("input[name=reason]").first
    expect(first_reason).to_be_focused()
    keys.press("Space")
    reason_label = first_reason.locator("xpath=..").inner_text().strip()
    page.screenshot(path=artifact("builder-phone-ru-page1.png"), full_page=True)

    # Next, by keyboard: the focus lands on page 2's first field; page 1 is put away.
    page.locator("#next").focus()
    keys.press("Enter")
    expect(page.locator("#page-1")).to_be_hidden()
    expect(page.locator("#progress")).to_have_text(progress(2, 3))
    expect(page.locator("input[name=speed_rating]").first).to_be_focused()
    # The customer's name (from the signed link) and the reason just chosen, piped into the text.
    expect(page.locator("#q-sorry")).to_contain_text(f"Анна, спасибо, что рассказали: {reason_label}.")
    keys.press("Space")  # a speed of 1: "what should we fix" appears
    fix = page.locator("textarea[name=fix]")
    expect(fix).to_be_visible()
    fix.focus()
    keys.type("Тормоза")
    page.locator("input[name=speed_rating][value='1']").focus()
    for _ in range(3):
        keys.press("ArrowRight")  # 4 after all: the question goes, and what was typed is not sent
    expect(fix).to_be_hidden()
    expect(fix).to_be_disabled()
    for row, presses in (("speed", 3), ("clean", 4), ("price", 2)):
        page.locator(f"input[name=grid__{row}]").first.focus()
        keys.press("Space")
        for _ in range(presses - 1):
            keys.press("ArrowRight")
    expect(page.locator("input[name=grid__clean][value='4']")).to_be_checked()
    assert serious_violations(page) == []
    page.screenshot(path=artifact("builder-phone-ru-page2.png"), full_page=True)

    page.locator("#next").focus()
    keys.press("Enter")
    expect(page.locator("#progress")).to_have_text(progress(3, 3))
    expect(page.locator("#next")).to_be_hidden()
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("select[name=rank__price]")).to_be_focused()
    keys.press("ArrowDown")  # price first; the rest left unranked — the server refuses half a ranking
    page.locator("input[name=again][value=yes]").focus()
    keys.press("Space")
    expect(page.locator("textarea[name=why_not]")).to_be_hidden()
    assert serious_violations(page) == []
    page.locator("#send").focus()
    keys.press("Enter")

    # Refused: the summary is announced and focused, on the page of the answer to check.
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.locator("#page-3")).to_be_visible()
    expect(page.locator("#page-1")).to_be_hidden()
    expect(page.locator("#e-rank")).to_be_visible()
    assert page.locator("#q-rank fieldset").get_attribute("aria-describedby") == "e-rank"
    assert serious_violations(page) == []
    page.screenshot(path=artifact("builder-phone-ru-refused.png"), full_page=True)
    assert not Response.objects.filter(status="completed").exists()

    for name, presses in (("rank__price", 1), ("rank__speed", 2), ("rank__comfort", 3)):
        page.locator(f"select[name={name}]").focus()
        page.locator(f"select[name={name}]").select_option(str(presses))
    page.locator("#send").focus()
    keys.press("Enter")
    page.wait_for_url(re.compile(r".*/thanks/.*"))
    expect(page.locator("h1")).to_contain_text("Спасибо")
    assert serious_violations(page) == []
    phone.close()

    saved = Response.objects.get(survey=survey)
    answers = {a.question.key: a for a in saved.answers.all()}
    assert (saved.score, saved.comment, saved.language) == (3, "Самокат сломался", "ru")
    assert sorted(answers) == ["again", "grid", "rank", "reason", "speed_rating"]  # no "fix", no "why_not"
    assert answers["speed_rating"].number == 4
    assert answers["grid"].grid == {"speed": 3, "clean": 4, "price": 2}
    assert answers["rank"].choices == ["price", "speed", "comfort"]
    assert answers["again"].choices == ["yes"]


def test_a_promoter_jumps_past_the_details_and_the_page_does_not_send_them(live_server, browser, org_a, artifact):
    survey, link = ten_question_survey(org_a)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(live_server.url + links.survey_url(link))
    page.get_by_role("radio", name="3", exact=True).first.check()
    page.locator("input[name=reason]").first.check()
    page.click("#next")
    page.locator("input[name=speed_rating][value='5']").check()
    page.locator("input[name=grid__speed][value='5']").check()
    page.screenshot(path=artifact("builder-desktop-page2.png"), full_page=True)
    page.click("#back")
    expect(page.locator("#page-1")).to_be_visible()
    page.locator("input[name=score][value='10']").check()  # a promoter: page 2 is skipped
    page.click("#next")
    expect(page.locator("#page-3")).to_be_visible()
    expect(page.locator("#progress")).to_have_text(progress(2, 2, "en"))
    expect(page.locator("input[name=speed_rating]").first).to_be_disabled()
    page.screenshot(path=artifact("builder-desktop-page3.png"), full_page=True)
    page.locator("input[name=again][value=no]").check()
    page.fill("textarea[name=why_not]", "Moving away")
    page.click("#back")
    expect(page.locator("#page-1")).to_be_visible()  # Back follows the path taken, not the page numbers
    page.click("#next")
    page.click("#send")
    page.wait_for_url(re.compile(r".*/thanks/.*"))
    saved = Response.objects.get(survey=survey, token=uuid.UUID(re.search(r"t=([0-9a-f-]{36})", page.url).group(1)))
    assert sorted(a.question.key for a in saved.answers.all()) == ["again", "reason", "why_not"]
    page.wait_for_load_state("networkidle")  # no autosave left in flight while the database is flushed
    page.context.close()


def test_the_preview_runs_the_logic_and_records_nothing(live_server, browser, org_a, make_member, artifact):
    from cxplatform.models import Role

    survey, _link = ten_question_survey(org_a)
    member = make_member(org_a, Role.CX_MANAGER, username="designer")
    member.set_password("designer-pass-123")
    member.save()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "designer")
    page.fill("#id_password", "designer-pass-123")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/s/preview/{survey.pk}/?lang=lv")
    expect(page.locator("legend").first).to_contain_text("Cik ticams")
    page.locator("input[name=score][value='10']").check()
    page.locator("input[name=reason]").first.check()
    page.click("#next")
    expect(page.locator("#page-3")).to_be_visible()  # the promoter's jump, live in the preview too
    page.locator("input[name=again][value=no]").check()
    expect(page.locator("textarea[name=why_not]")).to_be_visible()
    for rank, name in enumerate(("rank__price", "rank__speed", "rank__comfort"), 1):
        page.locator(f"select[name={name}]").select_option(str(rank))
    page.click("#send")
    with translation.override("lv"):
        said = translation.gettext("This is a preview — nothing is recorded.")
    expect(page.locator("#preview-status")).to_have_text(said)
    assert "/s/preview/" in page.url and "sent=1" not in page.url  # no navigation, nothing sent
    page.screenshot(path=artifact("builder-preview-phone-lv.png"), full_page=True)
    context.close()
    assert not Response.objects.exists()


def test_a_new_visits_page_comes_at_once_and_keeps_its_answer_on_reload_and_back(live_server, browser, org_a,
                                                                                  nps_link):
    """The link opens the page itself (no redirect); its script writes the answer's token in the
    address, so a reload and Back after "Send" come back to the same answer (docs/adr/0011)."""
    from surveys.models import DistributionDay

    page = browser.new_page()
    answered = page.goto(live_server.url + links.survey_url(nps_link))
    assert answered.request.redirected_from is None  # one round trip
    token = page.locator("input[name=token]").get_attribute("value")
    expect(page).to_have_url(re.compile(rf"[?&]t={token}"))
    page.reload()
    assert page.locator("input[name=token]").get_attribute("value") == token
    page.locator("input[name=score][value='2']").check(force=True)
    page.locator("#send").click()
    expect(page).to_have_url(re.compile(r"/thanks/"))
    page.go_back()
    assert page.locator("input[name=token]").get_attribute("value") == token
    page.locator("input[name=score][value='9']").check(force=True)
    page.locator("#send").click()
    expect(page).to_have_url(re.compile(r"/thanks/"))
    answer = Response.objects.get(distribution=nps_link)
    assert (str(answer.token), answer.score) == (token, 9)
    assert DistributionDay.objects.get(distribution=nps_link).opened == 1


def _is_answer(request) -> bool:
    """A form sent to the survey, not one of the page's own saves as the customer goes."""
    return request.method == "POST" and "/save/" not in request.url


def _answer_sent(reply) -> bool:
    return _is_answer(reply.request)


def _send_score(page, link, score: int) -> Response:
    """Choose `score`, send, and wait for the thank-you page: the link's answer as saved."""
    page.locator(f"input[name=score][value='{score}']").check(force=True)
    page.locator("#send").click()
    expect(page).to_have_url(re.compile(r"/thanks/"))
    return Response.objects.get(distribution=link)


def test_a_page_sent_back_with_a_correction_keeps_the_customer_and_the_visit_in_its_address(
        live_server, browser, org_a, nps_link):
    """A refused answer comes back on the page the form was sent to; its script writes the visit's
    token, link and language into the address, so a reload there is the same customer's visit."""
    customer = factories.customer(org_a)
    signed = links.sign(nps_link, customer)
    page = browser.new_page()
    page.goto(live_server.url + links.survey_url(nps_link, signed))
    token = page.locator("input[name=token]").get_attribute("value")
    with page.expect_response(_answer_sent) as sent:
        page.locator("#send").click()  # no score: refused by the server, the page sent back
    assert sent.value.status == 400 and "?" not in sent.value.url  # sent to the bare link
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]t={token}"))
    expect(page).to_have_url(re.compile(r"[?&]c="))
    page.reload()
    assert page.locator("input[name=token]").get_attribute("value") == token
    assert page.locator("input[name=c]").get_attribute("value") == signed
    answer = _send_score(page, nps_link, 3)
    assert (str(answer.token), answer.customer_id, answer.score) == (token, customer.pk, 3)


@pytest.mark.parametrize("scripts", [True, False], ids=["scripts", "no-scripts"])
def test_a_personal_link_is_two_requests_and_one_answer_with_or_without_scripts(live_server, browser, org_a,
                                                                                nps_link, scripts, artifact):
    """A known customer's link: the page at once, the thank-you page in reply to the answer (two
    requests where there were four), each then at its own address — written by the script, or
    refreshed to without one — so a reload of the thank-you page sends nothing, and Back and
    "Send" again change the one answer (docs/adr/0011)."""
    customer = factories.customer(org_a)
    context = browser.new_context(java_script_enabled=scripts)
    page = context.new_page()
    posts = []  # the answers sent (the page's own saves as the customer goes are not)
    page.on("request", lambda request: posts.append(request.url) if _is_answer(request) else None)
    opened = page.goto(live_server.url + links.survey_url(nps_link, links.sign(nps_link, customer)))
    assert opened.request.redirected_from is None and opened.status == 200
    token = page.locator("input[name=token]").get_attribute("value")
    expect(page).to_have_url(re.compile(rf"[?&]t={token}"))
    page.locator("input[name=score][value='2']").check(force=True)
    with page.expect_response(_answer_sent) as sent:
        page.locator("#send").click()
    assert sent.value.status == 200  # the thank-you page itself, no redirect
    expect(page).to_have_url(re.compile(r"/thanks/"))
    expect(page.locator("h1")).to_contain_text("Thank you")
    page.screenshot(path=artifact(f"thanks-in-reply-{'scripts' if scripts else 'no-scripts'}.png"), full_page=True)
    page.reload()
    expect(page).to_have_url(re.compile(r"/thanks/"))
    assert len(posts) == 1  # the reload sent nothing again
    page.go_back()
    expect(page).to_have_url(re.compile(rf"[?&]t={token}"))
    assert page.locator("input[name=token]").get_attribute("value") == token
    answer = _send_score(page, nps_link, 9)
    assert (str(answer.token), answer.customer_id, answer.score) == (token, customer.pk, 9)
    context.close()


def test_where_the_address_cannot_be_written_the_page_goes_there_unless_it_holds_typed_answers(
        live_server, browser, org_a, nps_link):
    """A browser (or a sandboxed frame) that refuses history.replaceState: the new visit's page
    goes to its own address instead; the page sent back with a correction stays where it is, with
    what the respondent typed."""
    context = browser.new_context()
    context.add_init_script("History.prototype.replaceState = function () { throw new Error('refused'); };")
    page = context.new_page()
    page.goto(live_server.url + links.survey_url(nps_link))
    expect(page).to_have_url(re.compile(r"[?&]t=[0-9a-f-]{36}"))
    token = page.locator("input[name=token]").get_attribute("value")
    assert token in page.url  # the page it went to is the same visit
    page.locator("textarea[name=comment]").fill("Typed before choosing a score")
    with page.expect_response(_answer_sent) as sent:
        page.locator("#send").click()  # no score: refused, the page sent back
    assert sent.value.status == 400
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.locator("textarea[name=comment]").input_value() == "Typed before choosing a score"
    assert "?" not in page.url  # not sent anywhere: what was typed is still there
    context.close()
