"""Notifications become a platform service (docs/adr/0015): the bell's rows, each person's choice per
kind (bell, e-mail, both, none) and the language the platform writes to them in. actions 0003
copies the existing rows here."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cxplatform', '0012_drop_rate_limit_buckets'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonalSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('language', models.CharField(blank=True, choices=[('en', 'English'), ('ru', 'Russian'), ('lv', 'Latvian')], max_length=5, verbose_name='language of my e-mails')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='personal_settings', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.CreateModel(
            name='Notification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('mention', 'Someone mentions me in a note'), ('assigned', 'I am given a goal or an action'), ('comment', 'Someone comments on my action'), ('reminder', 'My action is due soon or overdue'), ('other', 'Other notices')], default='other', max_length=20, verbose_name='kind')),
                ('message_id', models.CharField(blank=True, max_length=80)),
                ('params', models.JSONField(blank=True, default=dict)),
                ('text', models.CharField(blank=True, max_length=300, verbose_name='text')),
                ('link', models.CharField(blank=True, max_length=300, verbose_name='link')),
                ('in_bell', models.BooleanField(default=True)),
                ('mail_wanted', models.BooleanField(default=False)),
                ('mailed_at', models.DateTimeField(blank=True, null=True)),
                ('key', models.CharField(blank=True, max_length=80)),
                ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='cxplatform.organization')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'indexes': [models.Index(condition=models.Q(('in_bell', True), ('read_at__isnull', True)), fields=['user', 'organization'], name='cx_notification_unread_idx')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('key', ''), _negated=True), fields=('user', 'key'), name='one_notification_per_user_key')],
            },
        ),
        migrations.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('mention', 'Someone mentions me in a note'), ('assigned', 'I am given a goal or an action'), ('comment', 'Someone comments on my action'), ('reminder', 'My action is due soon or overdue'), ('other', 'Other notices')], max_length=20)),
                ('delivery', models.CharField(choices=[('both', 'Bell and e-mail'), ('bell', 'Bell only'), ('email', 'E-mail only'), ('none', 'Not at all')], max_length=5, verbose_name='how')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notification_preferences', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('user', 'kind'), name='one_preference_per_user_kind')],
            },
        ),
    ]
