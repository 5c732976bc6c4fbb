import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    assert code == 0, f"models changed without a migration:\n{out.getvalue()}"
