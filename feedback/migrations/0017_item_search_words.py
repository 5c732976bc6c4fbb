"""The inbox's search reads the item's own normalised words (`search_words`, written with the
text by textinsight.tokens.search_text) on every database, instead of PostgreSQL's stemming on
PostgreSQL and a substring match on SQLite (docs/adr/0016).

On PostgreSQL the words are also kept as a stored array (`search_terms`, generated from
`search_words`, so nothing else writes it) with a GIN index: a search is `search_terms @> query
words`, answered from the index, or — when PostgreSQL walks the newest items instead — checked on
the stored array without splitting the text again (an expression index on the split cost 3x the
old tsvector per row walked). The tsvector column of 0011 and its index are dropped."""

from django.db import migrations, models

FORWARD = [
    "ALTER TABLE feedback_feedbackitem ADD COLUMN IF NOT EXISTS search_terms text[] GENERATED ALWAYS AS "
    "(string_to_array(btrim(search_words), ' ')) STORED",
    "CREATE INDEX IF NOT EXISTS feedback_item_search_terms ON feedback_feedbackitem USING gin (search_terms)",
    "DROP INDEX IF EXISTS feedback_item_search",
    "ALTER TABLE feedback_feedbackitem DROP COLUMN IF EXISTS search_vector",
]
BACKWARD = [
    "ALTER TABLE feedback_feedbackitem ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('russian', text) || to_tsvector('english', text)) STORED",
    "CREATE INDEX IF NOT EXISTS feedback_item_search ON feedback_feedbackitem USING gin (search_vector)",
    "DROP INDEX IF EXISTS feedback_item_search_terms",
    "ALTER TABLE feedback_feedbackitem DROP COLUMN IF EXISTS search_terms",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)
    return apply


class Migration(migrations.Migration):
    dependencies = [("feedback", "0016_feedback_import_jobs")]
    operations = [
        migrations.AddField(model_name="feedbackitem", name="search_words",
                            field=models.TextField(blank=True, default="", editable=False)),
        migrations.RunPython(run(FORWARD), run(BACKWARD)),
    ]
