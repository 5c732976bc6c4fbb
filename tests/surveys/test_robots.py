"""Link previews, crawlers and headless scanners open survey links too. They get the page (a
chat's preview shows its title) but count no opening, open no invitation and keep no score:
the response rate divides by openings, and an invitation's funnel says who opened it
(surveys/robots.py, docs/adr/0036)."""

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from cxplatform.models import OutboxEvent
from invitations.models import Invitation
from surveys import links
from surveys.models import ContactPolicy, DistributionDay, Response
from surveys.robots import is_robot
from tests import factories
from tests.conftest import PERSON_USER_AGENT
from tests.respondent import keep_fields, kept_score_url

pytestmark = pytest.mark.django_db

# As they come, from the robots' own documentation and access logs.
ROBOTS = {
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp": "WhatsApp/2.23.20.0",
    "Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Teams": "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 "
             "Safari/537.36 MicrosoftPreview/2.0 +https://aka.ms/MicrosoftPreview",
    "Google": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "headless browser": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "HeadlessChrome/131.0.0.0 Safari/537.36",
    "script": "python-requests/2.32.3",
    "Viber preview": "Viber/23.5.0.0 CFNetwork/1474 Darwin/23.0.0",
    "Outlook's link check": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "Word's link check": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
}
PEOPLE = {
    "Android Chrome": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/131.0.0.0 Mobile Safari/537.36",
    "iPhone Safari": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                     "Version/17.5 Mobile/15E148 Safari/604.1",
    "Windows Edge": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mac Firefox": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:132.0) Gecko/20100101 Firefox/132.0",
    "tests' browser": PERSON_USER_AGENT,
    # In-app browsers: a customer taps the link in a chat or a social app.
    "Facebook app, iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6_2 like Mac OS X) AppleWebKit/605.1.15 "
                            "(KHTML, like Gecko) Mobile/22G100 Safari/604.1 MetaIAB Facebook",
    "Facebook app, Android": "Mozilla/5.0 (Linux; Android 16; SM-G990U2 Build/BP2A.250605.031.A3; ) AppleWebKit/537.36 "
                             "(KHTML, like Gecko) Version/4.0 Chrome/144.0.7559.117 Mobile Safari/537.36 "
                             "MetaIAB Facebook",
    "Viber app": "Mozilla/5.0 (Linux; Android 9; SM-G955U Build/PPR1.180610.011; wv) AppleWebKit/537.36 "
                 "(KHTML, like Gecko) Version/4.0 Chrome/79.0.3945.93 Mobile Safari/537.36 Viber/12.1.0.11",
    "WhatsApp app": "Mozilla/5.0 (Linux; Android 14; SM-A546B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.135 Mobile Safari/537.36 WhatsApp/2.24.25.78",
    "Instagram app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                     "Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,5; iOS 17_5; en_US; en; scale=3.00)",
    "Telegram app": "Mozilla/5.0 (Linux; Android 14; Pixel 7 Build/AP2A.240805.005; wv) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 "
                    "Telegram-Android/11.0.0",
    "Yandex Browser": "Mozilla/5.0 (Linux; Android 13; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/124.0.0.0 YaBrowser/24.4.5.82.00 SA/3 Mobile Safari/537.36",
    "Gmail app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Mobile/15E148 GSA/322.0.648915268 Mobile/15E148 Safari/604.1",
}


def opened(link) -> int:
    return sum(DistributionDay.objects.filter(distribution=link).values_list("opened", flat=True))


@pytest.mark.parametrize("agent", ROBOTS.values(), ids=ROBOTS.keys())
def test_a_robot_gets_the_page_and_counts_no_opening(nps_link, agent):
    page = Client(HTTP_USER_AGENT=agent).get(links.survey_url(nps_link))
    assert page.status_code == 200 and 'name="score"' in page.content.decode()
    assert opened(nps_link) == 0
    assert not Response.objects.exists() and not OutboxEvent.objects.exists()


@pytest.mark.parametrize("agent", PEOPLE.values(), ids=PEOPLE.keys())
def test_a_persons_browser_counts_its_opening(nps_link, agent):
    assert not is_robot(RequestFactory().get("/", HTTP_USER_AGENT=agent))
    Client(HTTP_USER_AGENT=agent).get(links.survey_url(nps_link))
    assert opened(nps_link) == 1


def test_a_robot_opening_an_invitations_link_leaves_it_unopened(org_a):
    invitation = factories.invitation(org_a, status=Invitation.Status.SENT, sent_at=timezone.now())
    url = links.survey_url(invitation.distribution,
                           links.sign(invitation.distribution, invitation.customer, invitation=invitation.pk))
    for agent in (ROBOTS["Teams"], ROBOTS["Slack"]):
        assert Client(HTTP_USER_AGENT=agent).get(url).status_code == 200
    assert not OutboxEvent.objects.filter(name="invitation.opened").exists()
    assert opened(invitation.distribution) == 0

    Client(HTTP_USER_AGENT=PEOPLE["iPhone Safari"]).get(url)
    assert OutboxEvent.objects.filter(name="invitation.opened", payload__invitation_id=invitation.pk).count() == 1
    assert opened(invitation.distribution) == 1


def test_a_robot_held_back_by_the_contact_policy_is_counted_nowhere(nps_link, customer, org_a):
    ContactPolicy.objects.create(organization=org_a, min_days_between_surveys=14)
    factories.response(org_a, factories.distribution(org_a, factories.survey(org_a, "csat")), score=4,
                       customer=customer)
    url = links.survey_url(nps_link, links.sign(nps_link, customer))
    held_back = Client(HTTP_USER_AGENT=ROBOTS["WhatsApp"]).get(url).content.decode()
    assert "не будем снова беспокоить" in held_back and 'name="score"' not in held_back  # the customer's Russian
    assert not DistributionDay.objects.filter(distribution=nps_link).exists()

    Client(HTTP_USER_AGENT=PEOPLE["Android Chrome"]).get(url)
    day = DistributionDay.objects.get(distribution=nps_link)
    assert (day.opened, day.skipped_by_policy) == (1, 1)


def test_a_headless_scanner_running_the_score_links_script_keeps_no_score(nps_link, customer):
    """A sandbox that opens the link in a headless browser runs the page's script, which keeps the
    score by POST: a robot's keeping records nothing. The customer's own click still keeps it."""
    url = links.one_click_url(nps_link, 2, links.sign(nps_link, customer))
    scanner = Client(HTTP_USER_AGENT=ROBOTS["headless browser"])
    page = scanner.get(url)
    assert scanner.post(kept_score_url(page), keep_fields(page)).status_code == 204
    assert not Response.objects.exists() and opened(nps_link) == 0

    person = Client(HTTP_USER_AGENT=PEOPLE["Windows Edge"])
    page = person.get(url)
    assert person.post(kept_score_url(page), keep_fields(page)).status_code == 204
    assert list(Response.objects.values_list("score", "source")) == [(2, "one_click")]
    assert opened(nps_link) == 1


def test_a_user_agent_of_any_length_is_read_once_and_safely():
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 " + "x" * 100_000 + " Googlebot/2.1")
    assert not is_robot(request)  # read to READ_CHARS only: the robot's name past it is not seen
    assert not is_robot(RequestFactory().get("/"))  # no User-Agent: a person's privacy tool, maybe
