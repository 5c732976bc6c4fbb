"""Before one customer per e-mail and per phone (0008): phones are written one way (digits, a
leading "+"), and customers that share an e-mail (in any case) or a phone are merged into the
oldest — their answers, inbox items and every other row pointing at them move over, and the
oldest takes what it lacked.
"""

from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def _phone(phone):
    phone = (phone or "").strip()
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+{digits}" if digits and phone.startswith("+") else digits


def _merge(Customer, keeper, duplicate):
    for relation in Customer._meta.related_objects:
        if relation.field.many_to_one or relation.field.one_to_one:  # a foreign key or one-to-one to Customer
            relation.related_model._base_manager.filter(**{relation.field.name: duplicate}).update(
                **{relation.field.name: keeper})
    for name in ("name", "email", "phone", "language", "active_since", "cancelled_on"):
        if not getattr(keeper, name) and getattr(duplicate, name):
            setattr(keeper, name, getattr(duplicate, name))
    if not keeper.external_id and duplicate.external_id:
        keeper.external_id = duplicate.external_id
    keeper.revenue = max(keeper.revenue, duplicate.revenue)
    keeper.attributes = {**(duplicate.attributes or {}), **(keeper.attributes or {})}
    duplicate.delete()
    keeper.save()


def merge_duplicates(apps, schema_editor):
    Customer = apps.get_model("cxplatform", "Customer")
    for customer in Customer.objects.exclude(phone="").iterator():
        if _phone(customer.phone) != customer.phone:
            Customer.objects.filter(pk=customer.pk).update(phone=_phone(customer.phone))
    for key, field in ((Lower("email"), "email"), (models.F("phone"), "phone")):
        groups = (Customer.objects.exclude(**{field: ""}).annotate(key=key).values("organization_id", "key")
                  .annotate(n=Count("id")).filter(n__gt=1))
        for group in groups:
            same = list(Customer.objects.filter(organization_id=group["organization_id"]).annotate(key=key)
                        .filter(key=group["key"]).order_by("created_at", "id"))
            keeper = same[0]
            for duplicate in same[1:]:
                if keeper.external_id and duplicate.external_id and keeper.external_id != duplicate.external_id:
                    # Two ids in the organization's own systems: two people who share an address.
                    # Keep both; the second loses the shared value rather than its identity.
                    setattr(duplicate, field, "")
                    duplicate.save(update_fields=[field])
                    continue
                _merge(Customer, keeper, duplicate)


class Migration(migrations.Migration):

    dependencies = [
        ('cxplatform', '0006_customer_import_jobs'),
        # The rows that point at customers, so a merge moves them too.
        ('surveys', '0006_import_job_lifecycle'),
        ('feedback', '0016_feedback_import_jobs'),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
    ]
