"""The ceiling's URLs (`bench/ceiling.py`): the view that does nothing, then the platform's own."""

from django.http import HttpResponse
from django.urls import include, path


def nothing(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("nothing/", nothing), path("", include("cxplatform.urls"))]
