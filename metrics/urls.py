from django.urls import path

from . import invitation_views, reread_views, theme_settings, touchpoint_views, views

app_name = "metrics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("metrics/responses/", views.responses, name="responses"),
    path("metrics/drivers/", views.key_drivers, name="drivers"),
    path("metrics/themes/", views.themes, name="themes"),
    path("metrics/themes/settings/", theme_settings.theme_settings, name="theme_settings"),
    path("metrics/response-rates/", invitation_views.response_rates, name="response_rates"),
    path("metrics/compare/", views.compare, name="compare"),
    path("metrics/journey-maps/<int:journey_map_id>/figures/", views.journey_map_figures, name="journey_map_figures"),
    path("metrics/touchpoints/<int:touchpoint_id>/comments/", touchpoint_views.touchpoint_comments,
         name="touchpoint_comments"),
    path("metrics/campaign-readiness/", touchpoint_views.campaign_readiness, name="campaign_readiness"),
    path("metrics/executive/", views.executive, name="executive"),
    path("metrics/frontline/", views.frontline, name="frontline"),
    path("metrics/digest/", views.digest_subscription, name="digest_subscription"),
    path("metrics/reread/", reread_views.reread_index, name="reread"),
    path("metrics/reread/<int:rereadjob_id>/", reread_views.reread_detail, name="reread_detail"),
]
