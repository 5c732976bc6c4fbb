# TEMPORARY: being written in this session
from django.http import Http404


def survey_list(request, **kwargs):
    raise Http404


def survey_create(request, **kwargs):
    raise Http404


def contact_policy_edit(request, **kwargs):
    raise Http404


def survey_detail(request, **kwargs):
    raise Http404


def survey_edit(request, **kwargs):
    raise Http404


def question_create(request, **kwargs):
    raise Http404


def question_edit(request, **kwargs):
    raise Http404


def question_delete(request, **kwargs):
    raise Http404


def distribution_create(request, **kwargs):
    raise Http404


def distribution_detail(request, **kwargs):
    raise Http404


def distribution_qr_png(request, **kwargs):
    raise Http404


def distribution_qr_svg(request, **kwargs):
    raise Http404
