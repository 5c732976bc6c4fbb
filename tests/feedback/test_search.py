"""One inbox search for both databases (docs/adr/0016): the same assertions, word forms, case,
diacritics, numbers and organizations, on PostgreSQL and on the embedded SQLite default."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxplatform.textinsight.tokens import search_text
from tests.feedback.search_cases import assert_search_cases

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_search_on_postgresql():
    assert_search_cases()


def test_search_on_the_embedded_sqlite_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'search.sqlite3'}"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    script = ("import django; django.setup(); "
              "from tests.feedback.search_cases import assert_search_cases; assert_search_cases(); print('ok')")
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE":
                         "cxplatform.settings"}, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-3000:]


def test_the_stored_words_are_forms_between_spaces():
    assert search_text("КУРЬЕР опоздал, курьеры!") == " курьер опоздать "
    assert search_text("Kurjers kavēja — ļoti") == " kurjer kavej lot "
    assert search_text("...") == ""


@pytest.mark.django_db
def test_the_data_migration_fills_the_words_of_items_written_before_it(org_a):
    from importlib import import_module

    from django.apps import apps

    from feedback import services
    from feedback.models import FeedbackItem

    item, _ = services.ingest(org_a, services.Voice(source="email", text="Kurjers kavēja piegādi"))
    FeedbackItem.objects.filter(pk=item.pk).update(search_words="")  # as every row was before 0017
    import_module("feedback.migrations.0018_fill_search_words").fill(apps, None)
    item.refresh_from_db()
    assert item.search_words == " kurjer kavej piegad "
