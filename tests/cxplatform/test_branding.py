"""Organization branding (issue 17): the WCAG AA rule on the colour, the checked logo, the settings
page and the API sharing one service, the audit entry, and the brand on e-mails and pages of its
own organization only."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from PIL import Image

from cxplatform import branding, demo
from cxplatform.audit import AuditAction
from cxplatform.models import AuditEntry, Branding, Role
from invitations import messages
from tests import factories
from tests.apierrors import error_fields
from tests.invitations.test_sending import list_audience, make_campaign

pytestmark = pytest.mark.django_db

URL = "/settings/branding/"
API = "/api/v1/branding/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(kind="PNG", size=(120, 40), colour=(11, 122, 85)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=kind)
    return out.getvalue()


def upload(content: bytes, name="logo.png", content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def multipart(**fields) -> bytes:
    """A multipart body for PUT and PATCH (the test client encodes one only for POST)."""
    return encode_multipart(BOUNDARY, fields)


def stored_logos(media) -> list:
    folder = media / "branding"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def settings_entries(org):
    return AuditEntry.objects.filter(organization=org, action=AuditAction.SETTINGS_CHANGED,
                                     target_type="cxplatform.branding")


@pytest.fixture
def admin(org_a, make_member, client_for):
    return client_for(make_member(org_a, Role.ADMIN))


# --- The contrast rule ------------------------------------------------------------------------

@pytest.mark.parametrize("colour, ratio", [("#777777", 4.48), ("#767676", 4.54), ("#000000", 21.0),
                                           ("#ffffff", 1.0), ("#1f6feb", 4.63)])
def test_contrast_with_white_matches_the_wcag_values(colour, ratio):
    assert round(branding.contrast(colour, branding.WHITE), 2) == ratio
    assert branding.contrast(branding.WHITE, colour) == branding.contrast(colour, branding.WHITE)


def test_a_colour_just_below_aa_is_refused_and_the_one_just_above_accepted():
    assert "4.5:1" in branding.colour_problem("#777777")
    assert branding.colour_problem("#767676") == ""
    assert branding.colour_problem("#000000") == ""


@pytest.mark.parametrize("colour", ["#777777", "#ffff00", "#ffffff", "#ff0000", "#00ff00", "#7fb2ff"])
def test_the_suggested_shade_passes_and_is_named_in_the_message(colour):
    suggestion = branding.readable_shade(colour)
    assert branding.contrast(suggestion, branding.WHITE) >= 4.5
    assert branding.colour_problem(suggestion) == ""
    assert suggestion in branding.colour_problem(colour)


def test_a_ratio_just_short_of_aa_never_reads_as_passing():
    assert branding.shown_ratio(4.4999) == 4.49 and branding.shown_ratio(4.478) == 4.48
    assert branding.shown_ratio(4.5) == 4.5


def test_the_suggestion_is_the_nearest_shade_not_a_far_darker_one():
    assert branding.readable_shade("#777777") == "#767676"
    assert branding.readable_shade("#1f6feb") == "#1f6feb"  # already readable: kept as it is


# --- The settings page ------------------------------------------------------------------------

def test_the_page_is_listed_on_the_settings_hub_and_shows_the_sample(admin):
    assert URL in admin.get("/settings/").content.decode()
    page = admin.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="brand-sample"' in html and "background:#1f6feb" in html


def test_saving_a_readable_colour_and_font_is_stored_and_audited(org_a, admin):
    response = admin.post(URL, {"colour": "#0B7A55", "font": "serif"})
    assert response.status_code == 302
    saved = Branding.objects.get(organization=org_a)
    assert (saved.colour, saved.font) == ("#0b7a55", "serif")
    entry = settings_entries(org_a).get()
    assert entry.details["changes"]["colour"] == ["#1f6feb", "#0b7a55"]
    assert entry.details["changes"]["font"] == ["system", "serif"]
    assert entry.actor is not None
    # The same values again change nothing and record nothing.
    admin.post(URL, {"colour": "#0b7a55", "font": "serif"})
    assert settings_entries(org_a).count() == 1


def test_the_audit_log_shows_what_changed(org_a, admin):
    admin.post(URL, {"colour": "#0b7a55", "font": "serif"})
    html = admin.get("/settings/audit/").content.decode()
    assert "#1f6feb → #0b7a55" in html and "Serif" in html


def test_a_too_light_colour_is_refused_with_the_readable_shade_as_a_one_click_fix(org_a, admin):
    response = admin.post(URL, {"colour": "#777777", "font": "serif"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "its contrast with white is 4.48:1" in html and "at least 4.5:1" in html
    assert re.search(r'name="use_colour" value="#767676"', html)
    assert not Branding.objects.filter(organization=org_a).exists()
    assert not settings_entries(org_a).exists()
    fixed = admin.post(URL, {"colour": "#777777", "font": "serif", "use_colour": "#767676"})
    assert fixed.status_code == 302
    assert Branding.objects.get(organization=org_a).colour == "#767676"


@pytest.mark.parametrize("colour", ["red", "#fff", "red;}body{display:none", "#1f6feb;}body{display:none}",
                                    "#GGGGGG", "", "#1f6feb\"><script>", "1f6feb0"])
def test_a_colour_that_is_not_hex_is_refused_and_never_reaches_the_page_css(org_a, admin, colour):
    Branding.objects.create(organization=org_a, colour="#0b7a55")
    response = admin.post(URL, {"colour": colour, "font": "system"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "six hexadecimal digits" in html or "This field is required" in html
    assert "display:none" not in html.split('id="brand-sample"')[1].split("</div>")[0]
    assert "<script>" not in html
    assert Branding.objects.get(organization=org_a).colour == "#0b7a55"
    assert not settings_entries(org_a).exists()


def test_a_font_outside_the_list_is_refused(org_a, admin):
    response = admin.post(URL, {"colour": "#0b7a55", "font": "Comic Sans;}"})
    assert response.status_code == 400
    assert not Branding.objects.filter(organization=org_a).exists()


def test_the_live_sample_follows_the_colour_being_typed(admin):
    sample = admin.get(URL, {"colour": "#777777", "font": "mono"}, headers={"HX-Request": "true"})
    assert sample.status_code == 200
    html = sample.content.decode()
    assert "<html" not in html and 'id="brand-sample"' in html
    assert "background:#777777" in html and "4.48:1" in html and 'value="#767676"' in html
    assert "ui-monospace" in html
    hostile = admin.get(URL, {"colour": "red;}body{display:none", "font": "system"}, headers={"HX-Request": "true"})
    assert "display:none" not in hostile.content.decode()
    assert "background:#1f6feb" in hostile.content.decode()  # the saved colour, not the typed text


# --- The logo ---------------------------------------------------------------------------------

def test_a_logo_is_stored_under_a_random_name_served_publicly_and_removable(org_a, admin, media, client):
    response = admin.post(URL, {"colour": "#0b7a55", "font": "system",
                                "logo": upload(picture(), name="acme-logo.png")})
    assert response.status_code == 302
    saved = Branding.objects.get(organization=org_a)
    name = saved.logo.name.removeprefix("branding/")
    assert re.fullmatch(r"[0-9a-f]{32}\.png", name) and "acme" not in name
    served = client.get(f"/brand/logo/{name}")  # not signed in: a customer's mail client
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).size == (120, 40)
    assert f"/brand/logo/{name}" in admin.get(URL).content.decode()

    removed = admin.post(URL, {"colour": "#0b7a55", "font": "system", "remove_logo": "on"})
    assert removed.status_code == 302
    assert not Branding.objects.get(organization=org_a).logo
    assert client.get(f"/brand/logo/{name}").status_code == 404


def test_a_replaced_logo_file_is_deleted_once_the_change_is_committed(org_a, media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = branding.save_branding(organization=org_a, logo=upload(picture()))
    first_name = first.logo.name
    with django_capture_on_commit_callbacks(execute=True):
        branding.save_branding(organization=org_a, logo=upload(picture("WEBP"), name="x.webp"))
    assert stored_logos(media) == [Branding.objects.get(organization=org_a).logo.name.removeprefix("branding/")]
    assert first_name.removeprefix("branding/") not in stored_logos(media)


def test_a_change_that_fails_midway_leaves_no_logo_file_behind(org_a, media, monkeypatch):
    from cxplatform import audit

    def broken(**kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(audit, "record_setting", broken)
    with pytest.raises(RuntimeError):
        branding.save_branding(organization=org_a, colour="#000000", logo=upload(picture()))
    assert stored_logos(media) == []
    assert not Branding.objects.filter(organization=org_a).exists()


@pytest.mark.parametrize("kind, extension", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_png_jpeg_and_webp_are_accepted_and_stored_as_what_they_are(org_a, kind, extension):
    # The client's name and type say nothing: a JPEG called .png is stored and served as a JPEG.
    saved = branding.save_branding(organization=org_a, logo=upload(picture(kind), name="logo.png"))
    assert saved.logo.name.endswith("." + extension)


def test_a_stored_logo_keeps_no_appended_data():
    checked = branding.check_logo(upload(picture() + b"<script>alert(1)</script>"))
    assert b"<script>" not in checked.content
    assert Image.open(io.BytesIO(checked.content)).size == (120, 40)


def hostile_logos():
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    return [
        ("png header, garbage", upload(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 200), "not a PNG, JPEG or WebP"),
        ("svg with script", upload(svg, name="logo.svg", content_type="image/svg+xml"), "SVG"),
        ("svg named png", upload(svg, name="logo.png"), "SVG"),
        ("gif", upload(picture("GIF"), name="logo.gif", content_type="image/gif"), "not a PNG, JPEG or WebP"),
        ("5 MB", upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)), "512 KB"),
        ("a picture padded past 512 KB", upload(picture() + b"\x00" * (512 * 1024)), "512 KB"),
        ("huge dimension", upload(picture(size=(2001, 10))), "2001×10"),
        ("empty", upload(b"", name="logo.png"), "The submitted file is empty"),
    ]


@pytest.mark.parametrize("label, file, message", hostile_logos(), ids=[case[0] for case in hostile_logos()])
def test_a_hostile_logo_is_refused_with_a_clear_message_and_nothing_changes(org_a, admin, media, label, file,
                                                                            message):
    Branding.objects.create(organization=org_a, colour="#0b7a55", font="serif")
    response = admin.post(URL, {"colour": "#000000", "font": "mono", "logo": file})
    assert response.status_code == 400, label
    assert message in response.content.decode()
    saved = Branding.objects.get(organization=org_a)
    assert (saved.colour, saved.font, saved.logo.name) == ("#0b7a55", "serif", "")  # not even the valid colour
    assert stored_logos(media) == []
    assert not settings_entries(org_a).exists()


def test_a_picture_past_pillows_bomb_limit_is_refused_before_it_is_decoded():
    # A 20000×20000 PNG header: refused from its size alone, nothing decoded.
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    with pytest.raises(branding.BrandingRefused) as refused:
        branding.check_logo(upload(out.getvalue()))
    assert "2000×2000" in refused.value.errors["logo"]


@pytest.mark.parametrize("path", ["/brand/logo/..%2F..%2Fsettings.py", "/brand/logo/notes.txt",
                                  "/brand/logo/0123456789abcdef0123456789abcdef.png", "/brand/logo/customers.csv"])
def test_the_logo_url_serves_only_stored_logos(client, path):
    assert client.get(path).status_code == 404


def test_an_import_file_in_media_root_is_never_served_as_a_logo(org_a, client, media):
    (media / "branding").mkdir(parents=True)
    (media / "branding" / "0123456789abcdef0123456789abcdef.png").write_bytes(b"customer data")
    assert client.get("/brand/logo/0123456789abcdef0123456789abcdef.png").status_code == 404


# --- Who may change it ------------------------------------------------------------------------

@pytest.mark.parametrize("role", [Role.CX_MANAGER, Role.AGENT, Role.VIEWER])
def test_a_role_without_the_administer_capability_cannot_change_it(org_a, make_member, client_for, role):
    member = client_for(make_member(org_a, role))
    assert member.get(URL).status_code == 403
    assert member.post(URL, {"colour": "#000000", "font": "serif"}).status_code == 403
    assert member.put(API, {"colour": "#000000", "font": "serif"}, content_type="application/json").status_code == 403
    assert not Branding.objects.filter(organization=org_a).exists()
    assert URL not in member.get("/settings/").content.decode()


# --- The API ----------------------------------------------------------------------------------

def test_the_api_round_trip(org_a, admin):
    read = admin.get(API)
    assert read.status_code == 200
    assert read.json() == {"colour": "#1f6feb", "font": "system", "logo_url": None, "on_colour": "#ffffff"}
    changed = admin.put(API, {"colour": "#0B7A55", "font": "rounded"}, content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["colour"] == "#0b7a55" and changed.json()["font"] == "rounded"
    assert settings_entries(org_a).count() == 1
    with_logo = admin.put(API, multipart(colour="#0b7a55", font="rounded", logo=upload(picture())),
                          content_type=MULTIPART_CONTENT)
    assert with_logo.status_code == 200, with_logo.content
    logo_url = with_logo.json()["logo_url"]
    assert logo_url.startswith("http") and "/brand/logo/" in logo_url
    partly = admin.patch(API, {"font": "mono"}, content_type="application/json")
    assert partly.json()["font"] == "mono" and partly.json()["colour"] == "#0b7a55"
    assert partly.json()["logo_url"] == logo_url
    removed = admin.patch(API, {"remove_logo": True}, content_type="application/json")
    assert removed.json()["logo_url"] is None
    assert admin.get(API).json()["font"] == "mono"


@pytest.mark.parametrize("body, field", [({"colour": "#777777", "font": "serif"}, "colour"),
                                         ({"colour": "red;}body{display:none", "font": "serif"}, "colour"),
                                         ({"colour": "#000000", "font": "papyrus"}, "font")])
def test_the_api_refuses_what_the_page_refuses_in_the_usual_error_body(org_a, admin, body, field):
    Branding.objects.create(organization=org_a, colour="#0b7a55")
    response = admin.put(API, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"]
    assert field in error_fields(response)
    assert Branding.objects.get(organization=org_a).colour == "#0b7a55"
    assert not settings_entries(org_a).exists()


def test_the_api_suggests_the_readable_shade(admin):
    response = admin.put(API, {"colour": "#777777", "font": "serif"}, content_type="application/json")
    assert "#767676" in error_fields(response)["colour"][0]


def test_the_api_refuses_an_svg_logo(org_a, admin):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    response = admin.patch(API, multipart(logo=upload(svg, name="logo.svg")), content_type=MULTIPART_CONTENT)
    assert response.status_code == 400
    assert "SVG" in error_fields(response)["logo"][0]
    assert not Branding.objects.filter(organization=org_a).exists()


def test_the_api_answers_for_the_callers_organization_only(org_a, org_b, admin):
    Branding.objects.create(organization=org_b, colour="#8a1c1c", font="serif")
    assert admin.get(API).json()["colour"] == "#1f6feb"
    admin.put(API, {"colour": "#0b7a55", "font": "mono"}, content_type="application/json")
    assert Branding.objects.get(organization=org_b).colour == "#8a1c1c"


# --- E-mails and pages ------------------------------------------------------------------------

def invitation_html(org):
    link = factories.distribution(org)
    person = factories.customer(org)
    campaign = make_campaign(org, link, list_audience(org, [person]))
    renderer = messages.Renderer()
    html = [renderer.render(source=campaign, distribution=link, customer=person, organization=org, language=language,
                            invitation=None).html for language in ("en", "ru")]
    return html, renderer


def test_an_invitation_carries_its_organizations_colour_text_colour_font_and_logo(org_a, org_b, settings):
    settings.SITE_URL = "https://cx.example.com"
    branding.save_branding(organization=org_a, colour="#0b7a55", font="serif", logo=upload(picture()))
    branding.save_branding(organization=org_b, colour="#8a1c1c", font="mono", logo=upload(picture()))
    logo_a = branding.logo_path(Branding.objects.get(organization=org_a))
    logo_b = branding.logo_path(Branding.objects.get(organization=org_b))
    html = invitation_html(org_a)[0][0]
    assert "background:#0b7a55;color:#ffffff" in html
    assert "Georgia" in html
    assert f'src="https://cx.example.com{logo_a}"' in html
    # Nothing of the other organization's brand.
    assert "#8a1c1c" not in html and logo_b not in html and "ui-monospace" not in html


def test_a_light_brand_colour_gets_dark_text_on_its_button(org_a):
    Branding.objects.create(organization=org_a, colour="#0b7a55")
    style = branding.style_for(org_a)
    assert style.on_colour == "#ffffff"
    # A stored colour that no longer passes (saved before the rule) falls back to the default.
    Branding.objects.filter(organization=org_a).update(colour="#ffff00")
    org_a.refresh_from_db()
    assert branding.style_for(org_a).colour == branding.DEFAULT_COLOUR


def test_a_batch_reads_the_branding_once_not_per_message(org_a, monkeypatch):
    calls = []
    real = messages.style_for
    monkeypatch.setattr(messages, "style_for", lambda organization: calls.append(organization.pk) or real(organization))
    html, renderer = invitation_html(org_a)
    assert len(html) == 2 and len(renderer._skeletons) == 2
    assert calls == [org_a.pk]


def test_an_unbranded_email_looks_as_the_default_brand_does():
    # The e-mail template's own defaults are BrandStyle's: a caller without `brand` sends the same.
    context = {"subject": "S", "paragraphs": ["Hello"], "organization": {"name": "Org"}, "scores": [(1, "u")],
               "survey_url": "https://x.example/s", "language": "en"}
    assert render_to_string("invitations/email.html", context) == render_to_string(
        "invitations/email.html", {**context, "brand": branding.BrandStyle()})


def test_the_page_include_sets_the_css_properties_from_the_brand(org_a):
    Branding.objects.create(organization=org_a, colour="#0b7a55", font="serif")
    html = Template('{% include "includes/brand_style.html" %}').render(Context({"brand": branding.style_for(org_a)}))
    assert html.startswith("<style>") and "--brand:#0b7a55;" in html and "--on-brand:#ffffff;" in html
    assert '--brand-font:Georgia,"Times New Roman",Times,serif' in html  # quotes stay quotes inside <style>
    assert Template('{% include "includes/brand_style.html" %}').render(Context({})).strip() == ""


def test_the_settings_page_shows_only_its_own_organizations_brand(org_a, org_b, admin):
    branding.save_branding(organization=org_b, colour="#8a1c1c", font="mono", logo=upload(picture()))
    html = admin.get(URL).content.decode()
    assert "#8a1c1c" not in html and "/brand/logo/" not in html


# --- The demo ---------------------------------------------------------------------------------

def test_the_demo_organization_gets_a_readable_brand_with_a_logo_once(org_a, media):
    demo._branding(org_a)
    saved = Branding.objects.get(organization=org_a)
    assert branding.colour_problem(saved.colour) == "" and saved.font == "rounded"
    assert Image.open(saved.logo.path).format == "PNG"
    demo._branding(org_a)
    assert Branding.objects.filter(organization=org_a).count() == 1 and len(stored_logos(media)) == 1
