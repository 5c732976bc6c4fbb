from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from actions import api as actions_api
from feedback import api as feedback_api
from invitations import api as invitations_api
from invitations.views import public as invitation_views
from journeys import api as journeys_api
from metrics import api as metrics_api
from surveys import api as surveys_api

from . import api, content_policy, settings_home, views
from .tokens import views as token_views

# Each app lists its API routes; wiring them here is the one expected upward import.
API_ROUTES = [*api.ROUTES, *journeys_api.ROUTES, *surveys_api.ROUTES, *feedback_api.ROUTES, *invitations_api.ROUTES,
              *metrics_api.ROUTES,
              *actions_api.ROUTES]
router = DefaultRouter()
for prefix, viewset, basename in API_ROUTES:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages that name no icon (the public survey pages, files).
    path("favicon.ico", views.favicon),
    path("csp-report/", content_policy.csp_report, name="csp_report"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("organization/switch/", views.switch_organization, name="switch_organization"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
    path("notifications/settings/", views.notification_settings, name="notification_settings"),
    path("", include("cxplatform.signin.urls")),
    path("account/", include("cxplatform.team.account_urls")),

    # Single sign-on (OpenID Connect); the views answer 404 while SSO is not configured.
    path("oidc/", include("cxplatform.signin.oidc_urls")),
    path("settings/", settings_home.settings_home, name="settings_home"),
    path("settings/members/", include("cxplatform.team.urls")),
    path("settings/tokens/", include("cxplatform.tokens.urls")),
    path("settings/audit/", include("cxplatform.audit_urls")),
    path("settings/webhooks/", include("integrations.urls")),
    path("settings/privacy/", include("privacy.urls")),
    path("", include("cxplatform.branding_urls")),  # /settings/branding/ and the public /brand/logo/
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/import/", views.customer_import_view, name="customer_import"),
    path("customers/import/<int:customerimportjob_id>/", views.customer_import_detail, name="customer_import_detail"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("surveys/", include("surveys.urls")),
    path("s/", include("surveys.public_urls")),
    path("journeys/", include("journeys.urls")),
    path("inbox/", include("feedback.urls")),
    path("invitations/", include("invitations.urls")),
    path("hooks/feedback/<str:token>/", feedback_api.WebhookReceiver.as_view(), name="feedback-webhook"),
    path("hooks/invitations/reports/", invitation_views.delivery_reports, name="invitation-reports"),
    path("invite/", include("invitations.public_urls")),
    path("actions/", include("actions.urls")),
    path("api/v1/docs/", token_views.api_docs, name="api_docs"),
    path("api/v1/", include(router.urls)),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("admin/", admin.site.urls),
    path("", include("metrics.urls")),
]
# MEDIA_ROOT is never served as a directory: it holds uploads waiting for their import job and
# export files (customers' data, each deleted when its job ends or expires). A brand logo is
# served only by cxplatform.branding's view, for its exact random name.

# An unknown route under /api/ answers in the API's error shape; elsewhere the site's 404 page.
handler404 = "cxplatform.api_errors.not_found"
