"""The respondent's side: public pages with no login, under /s/."""

from django.urls import path

from .views import public

app_name = "respond"

urlpatterns = [
    # Before the link's patterns: "preview" is not a link's public id (those are 16 hex digits).
    path("preview/<int:survey_id>/", public.preview, name="preview"),
    path("<str:public_id>/", public.respond, name="page"),
    path("<str:public_id>/save/", public.save_partial, name="save"),
    path("<str:public_id>/score/<int:score>/", public.one_click, name="one_click"),
    path("<str:public_id>/thanks/", public.thanks, name="thanks"),
    path("<str:public_id>/offers/<int:offer_id>/", public.accept_offer, name="accept_offer"),
    path("<str:public_id>/embed.js", public.embed_script, name="embed_js"),
]
