"""Tags and root causes get a name per language. Rows seeded from our own starting lists
(written in the organization's language then) get that list's name in every language."""

from django.conf import settings
from django.db import migrations, models
from django.utils import translation

# The starting lists' messages as they stood when this migration was written (feedback.services
# DEFAULT_TAGS, feedback.loop DEFAULT_ROOT_CAUSES), so a later change there cannot change history.
SEEDED = ["sales lead", "feature request", "incident / crisis", "technical problem", "user-generated content",
          "complaint", "praise", "Delivery", "Late", "Damaged", "Courier's manner", "Product", "Battery range",
          "Quality", "Price", "App", "Pairing", "Bugs", "Service", "Slow answer", "Repair took too long",
          "Wrong information"]


def name_seeded_rows(apps, schema_editor):
    by_name = {}
    for message in SEEDED:
        names = {}
        for code, _label in settings.LANGUAGES:
            with translation.override(code):
                names[code] = translation.gettext(message)
        for written in names.values():
            by_name.setdefault(written, names)
    for model in ("Tag", "RootCause"):
        Model = apps.get_model("feedback", model)
        changed = []
        for row in Model.objects.filter(names={}).iterator():
            if row.name in by_name:
                row.names = by_name[row.name]
                changed.append(row)
        Model.objects.bulk_update(changed, ["names"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('feedback', '0018_fill_search_words'),
    ]

    operations = [
        migrations.AddField(
            model_name='rootcause',
            name='names',
            field=models.JSONField(blank=True, default=dict, verbose_name='names per language'),
        ),
        migrations.AddField(
            model_name='tag',
            name='names',
            field=models.JSONField(blank=True, default=dict, verbose_name='names per language'),
        ),
        migrations.RunPython(name_seeded_rows, migrations.RunPython.noop),
    ]
