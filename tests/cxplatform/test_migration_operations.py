"""An index built without blocking (cxplatform.migration_operations): on PostgreSQL, CONCURRENTLY,
valid once built, and removed again when its migration is reversed."""

import io

import pytest
from django.core.management import call_command
from django.db import connection

from tests.migrating import migrate_to, migrate_to_latest


def index_state(name):
    with connection.cursor() as cursor:
        cursor.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                       "WHERE c.relname = %s", [name])
        row = cursor.fetchone()
    return None if row is None else row[0]


@pytest.mark.django_db(transaction=True)
def test_the_index_comes_and_goes_with_its_migration():
    assert index_state("invitation_org_sent_at") is True
    try:
        migrate_to([("invitations", "0004_campaign_runs_finished")])
        assert index_state("invitation_org_sent_at") is None
    finally:
        migrate_to_latest()
    assert index_state("invitation_org_sent_at") is True


@pytest.mark.django_db(transaction=True)  # sqlmigrate refuses it inside a transaction, as migrate does
def test_on_postgresql_it_is_built_and_dropped_concurrently():
    for backwards in (False, True):
        sql = io.StringIO()
        call_command("sqlmigrate", "invitations", "0005", backwards=backwards, stdout=sql)
        assert "INDEX CONCURRENTLY" in sql.getvalue(), sql.getvalue()
