"""The committed OpenAPI schema is the code's: a change to the API that leaves docs/api/openapi.yaml
behind fails here, with the command that regenerates it."""

import difflib
from pathlib import Path

import pytest
from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"


@pytest.mark.django_db
def test_the_committed_schema_is_the_generated_one(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(generated), validate=True)
    new, old = generated.read_text(), COMMITTED.read_text() if COMMITTED.exists() else ""
    diff = "".join(list(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "committed",
                                             "generated"))[:60])
    assert new == old, ("The API's schema changed but docs/api/openapi.yaml did not. Regenerate it with `make schema` "
                        "(manage.py spectacular --file docs/api/openapi.yaml --validate), check the diff and commit "
                        "it.\n" + diff)
