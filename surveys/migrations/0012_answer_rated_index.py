from django.db import migrations, models

from cxplatform.migration_operations import AddIndexWithoutBlocking


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("surveys", "0011_theme_clause_sentiment"),
    ]

    operations = [
        # Built without blocking the customers' answers while the table is scanned.
        AddIndexWithoutBlocking(model_name="answer", index=models.Index(
            condition=models.Q(("number__isnull", False)), fields=["response"], name="answer_rated")),
    ]
