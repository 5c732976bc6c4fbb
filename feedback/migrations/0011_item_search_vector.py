"""The inbox's search as a stored tsvector column (PostgreSQL only; SQLite searches substrings).

With an expression index alone, a search that PostgreSQL answers by walking the newest items
(a view, a tag, a team…) recomputes both stemmings of every text it passes: 200 ms at a million
items. A stored column is computed once, when the text is written, and the same GIN index serves
the searches that start from the words."""

from django.db import migrations

FORWARD = [
    "ALTER TABLE feedback_feedbackitem ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('russian', text) || to_tsvector('english', text)) STORED",
    "CREATE INDEX IF NOT EXISTS feedback_item_search ON feedback_feedbackitem USING gin (search_vector)",
    "DROP INDEX IF EXISTS feedback_item_fulltext",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS feedback_item_fulltext ON feedback_feedbackitem USING gin "
    "((to_tsvector('russian', text) || to_tsvector('english', text)))",
    "DROP INDEX IF EXISTS feedback_item_search",
    "ALTER TABLE feedback_feedbackitem DROP COLUMN IF EXISTS search_vector",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return apply


class Migration(migrations.Migration):
    dependencies = [("feedback", "0010_closed_loop")]
    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
