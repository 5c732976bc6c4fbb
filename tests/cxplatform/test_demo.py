from collections import Counter

import pytest

from cxplatform import demo
from cxplatform.demo import DEMO_PASSWORD, DEMO_SLUG, load_demo
from cxplatform.models import Customer, Membership, Organization, Role
from journeys.models import Touchpoint

pytestmark = pytest.mark.django_db


def test_demo_has_every_role_and_loads_twice_without_duplicates():
    load_demo()
    counts = (Customer.objects.count(), Touchpoint.objects.count(), Membership.objects.count())
    load_demo()
    assert (Customer.objects.count(), Touchpoint.objects.count(), Membership.objects.count()) == counts
    org = Organization.objects.get(slug=DEMO_SLUG)
    assert set(org.memberships.values_list("role", flat=True)) == set(Role.values)
    assert Touchpoint.objects.for_org(org).count() >= 5
    assert Customer.objects.for_org(org).count() >= 300
    manager = org.memberships.get(role=Role.CX_MANAGER).user
    assert manager.check_password(DEMO_PASSWORD)


def test_demo_has_active_surveys_with_a_year_of_answers_and_figures():
    from django.db.models import Max, Min

    from metrics.models import DailyRollup
    from surveys.models import Response, Survey

    load_demo()
    org = Organization.objects.get(slug=DEMO_SLUG)
    surveys = Survey.objects.for_org(org)
    assert set(surveys.values_list("survey_type", flat=True)) == {"nps", "csat", "ces", "csi"}
    assert all(s.status == "active" and s.distributions.filter(touchpoint__isnull=False).exists() for s in surveys)
    # Live as a team makes a survey live: published, so the builder shows revision 1 (not "Never published").
    assert all(list(s.revisions.values_list("number", flat=True)) == [1] for s in surveys)
    responses = Response.objects.for_org(org)
    assert responses.count() >= 3000
    assert {"ru", "en"} <= set(responses.values_list("language", flat=True).distinct())
    span = responses.aggregate(first=Min("started_at"), last=Max("started_at"))
    assert (span["last"] - span["first"]).days > 300
    assert responses.exclude(comment="").filter(language="ru").count() > 100
    # The dashboard has figures at once: rollups fold in every demo answer.
    folded = sum(r.responses + r.skipped for r in DailyRollup.objects.for_org(org))
    assert folded == responses.count()


def test_the_demo_shows_its_history_in_the_bell_and_e_mails_nobody(django_capture_on_commit_callbacks):
    from django.core import mail

    from cxplatform.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        load_demo()
    assert Notification.objects.filter(kind="item_assigned").exists()  # its rules routed items to agents
    assert mail.outbox == [] and not Notification.objects.filter(mail_wanted=True).exists()
    # Older notices read, as a working team's are: the latest few of each member wait in the bell.
    unread = Notification.objects.filter(in_bell=True, read_at__isnull=True)
    per_member = Counter(unread.values_list("user_id", flat=True))
    assert per_member and max(per_member.values()) == demo.DEMO_UNREAD_NOTICES
    assert Notification.objects.filter(in_bell=True, read_at__isnull=False).count() > sum(per_member.values())
