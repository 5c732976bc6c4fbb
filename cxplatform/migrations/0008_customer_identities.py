"""One customer per e-mail (in any case) and per phone in an organization, as there already was
per external id. Apart from 0007's merge: PostgreSQL builds no index on a table with pending
trigger events from the same transaction."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cxplatform', '0007_merge_duplicate_customers'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='customer',
            name='cxplatform__organiz_3c2825_idx',
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.UniqueConstraint(models.F('organization'), django.db.models.functions.text.Lower('email'), condition=models.Q(('email', ''), _negated=True), name='customer_email_unique_per_org'),
        ),
        migrations.AddConstraint(
            model_name='customer',
            constraint=models.UniqueConstraint(condition=models.Q(('phone', ''), _negated=True), fields=('organization', 'phone'), name='customer_phone_unique_per_org'),
        ),
    ]
