"""One way to make a row of every organization-scoped model, for tests that walk all of them.

A test that walks the URL conf asks here for an object of the model a URL argument names; a
new model with a URL gets a factory here, or that test fails and says so.
"""

import itertools
import uuid

from django.utils import timezone

from cxplatform.models import Customer
from journeys.models import Channel, Touchpoint
from surveys.models import Distribution, ImportJob, Question, Response, Survey
from surveys.services import band_for, save_survey

_seq = itertools.count(1)


def customer(org):
    n = next(_seq)
    return Customer.objects.create(organization=org, external_id=f"C{n}", name=f"Customer {n}", email=f"c{n}@x.example")


def channel(org):
    return Channel.objects.create(organization=org, name=f"Channel {next(_seq)}")


def touchpoint(org):
    return Touchpoint.objects.create(organization=org, name=f"Touchpoint {next(_seq)}", channel=channel(org))


def survey(org, survey_type="nps", **fields):
    obj = Survey(organization=org, name=f"Survey {next(_seq)}", survey_type=survey_type, status="active", **fields)
    return save_survey(obj, {}, fill_defaults=True)


def question(org, survey_obj=None, kind="text", **fields):
    survey_obj = survey_obj or survey(org)
    n = next(_seq)
    fields.setdefault("text", {"en": f"Question {n}?", "ru": f"Вопрос {n}?", "lv": f"Jautājums {n}?"})
    return Question.objects.create(organization=org, survey=survey_obj, kind=kind, key=f"q{n}", position=n, **fields)


def distribution(org, survey_obj=None, **fields):
    survey_obj = survey_obj or survey(org)
    fields.setdefault("touchpoint", touchpoint(org))
    return Distribution.objects.create(organization=org, survey=survey_obj, name=f"Link {next(_seq)}", **fields)


def response(org, distribution_obj=None, score=9, **fields):
    distribution_obj = distribution_obj or distribution(org)
    now = timezone.now()
    fields.setdefault("status", Response.Status.COMPLETED)
    fields.setdefault("started_at", now)
    fields.setdefault("submitted_at", now)
    fields.setdefault("language", "en")
    fields.setdefault("band", band_for(distribution_obj.survey.survey_type, score))
    return Response.objects.create(
        organization=org, survey=distribution_obj.survey, distribution=distribution_obj,
        touchpoint=distribution_obj.touchpoint, channel=distribution_obj.channel, token=uuid.uuid4(),
        score=score, **fields,
    )


def import_job(org, survey_obj=None, **fields):
    # The name only: pages that show a job never open its file.
    fields.setdefault("file", "imports/test/responses.csv")
    fields.setdefault("original_name", "responses.csv")
    return ImportJob.objects.create(organization=org, survey=survey_obj or survey(org), **fields)


FACTORIES = {
    Customer: customer,
    Channel: channel,
    Touchpoint: touchpoint,
    Survey: survey,
    Question: question,
    Distribution: distribution,
    Response: response,
    ImportJob: import_job,
}


def make(model, org):
    try:
        factory = FACTORIES[model]
    except KeyError:
        raise LookupError(f"tests/factories.py has no factory for {model.__name__}: add one") from None
    return factory(org)
