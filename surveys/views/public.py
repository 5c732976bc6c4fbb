# TEMPORARY: being written in this session
from django.http import Http404


def respond(request, **kwargs):
    raise Http404


def save_partial(request, **kwargs):
    raise Http404


def one_click(request, **kwargs):
    raise Http404


def thanks(request, **kwargs):
    raise Http404


def embed_script(request, **kwargs):
    raise Http404
