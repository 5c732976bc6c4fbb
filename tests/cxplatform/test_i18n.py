"""Russian and Latvian are complete: every UI string translated, none fuzzy, compiled and shipped."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.test import Client
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["ru", "lv"]
SOURCE_DIRS = ["cxplatform", "journeys", "surveys", "invitations", "feedback", "metrics", "actions", "integrations",
               "privacy", "templates"]


def catalog(lang):
    return polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(lang):
    po = catalog(lang)
    assert len(po) > 50
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_the_source(lang):
    po = catalog(lang)
    mo = polib.mofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.mo"))
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in mo}
    source = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in po.translated_entries()}
    assert compiled == source, "run `make messages` to recompile the .mo files"


def test_no_ui_string_is_missing_from_the_catalogs(tmp_path):
    """Extract the strings afresh from a copy of the sources and compare with the catalogs."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is needed for this check: apt-get install gettext")
    for name in [*SOURCE_DIRS, "manage.py"]:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
        else:
            shutil.copy(src, tmp_path / name)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--no-wrap"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "cxplatform.settings", "PYTHONPATH": str(tmp_path)},
    )
    fresh = polib.pofile(str(tmp_path / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    extracted = {(e.msgctxt, e.msgid) for e in fresh}
    for lang in LANGUAGES:
        known = {(e.msgctxt, e.msgid) for e in catalog(lang)}
        missing = sorted(m for _, m in extracted - known)
        assert not missing, f"{lang}: untranslated UI strings, run `make messages` and translate: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(("lang", "expected"), [("ru", "Войти"), ("lv", "Pieteikties"), ("en", "Log in")])
def test_login_page_speaks_the_chosen_language(lang, expected):
    client = Client()
    client.post("/i18n/setlang/", {"language": lang, "next": "/login/"})
    assert expected in client.get("/login/").content.decode()
    translation.activate("en")


@pytest.mark.django_db
def test_accept_language_picks_russian():
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9")
    assert "Имя пользователя" in response.content.decode()
