"""Items get their text read by a worker (issue 18): a `text_read` flag and their themes. Items
already in the inbox were read when they arrived (sentiment in the request), so they count as read;
the re-read job (metrics) gives them themes."""

import django.db.models.deletion
from django.db import migrations, models


def existing_items_were_read(apps, schema_editor):
    apps.get_model("feedback", "FeedbackItem").objects.update(text_read=True)


class Migration(migrations.Migration):

    dependencies = [
        ('cxplatform', '0022_branding'),
        ('feedback', '0020_reader_language_texts'),
    ]

    operations = [
        migrations.AddField(
            model_name='feedbackitem',
            name='text_read',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(existing_items_were_read, migrations.RunPython.noop),
        migrations.CreateModel(
            name='ItemTheme',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=80)),
                ('sentiment', models.SmallIntegerField(blank=True, null=True)),
                ('item', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='themes', to='feedback.feedbackitem')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cxplatform.organization')),
            ],
            options={
                'indexes': [models.Index(fields=['organization', 'key'], name='feedback_it_organiz_e2b13a_idx')],
                'constraints': [models.UniqueConstraint(fields=('item', 'key'), name='one_theme_row_per_item')],
            },
        ),
    ]
