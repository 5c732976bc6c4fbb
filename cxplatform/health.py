"""/healthz answered before host validation and the HTTPS redirect: a load balancer or a container
health check asks by the container's own address over plain HTTP (`http://127.0.0.1:8000/healthz`),
which production's ALLOWED_HOSTS and SECURE_SSL_REDIRECT would otherwise refuse or redirect."""

from . import views

PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return views.healthz(request)
        return self.get_response(request)
