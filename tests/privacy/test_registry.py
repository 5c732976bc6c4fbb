"""The map of personal data (privacy.registry) knows every e-mail, phone and address field."""

from django.apps import apps
from django.db import models

from privacy.registry import LOOKS_PERSONAL, NAMING_TEXTS, NOT_SUBJECT_DATA, PERSONAL_FIELDS, registered


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def test_every_email_phone_or_address_field_is_on_the_map():
    unknown = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not getattr(field, "concrete", False) or field.is_relation:
                continue
            looks_personal = isinstance(field, models.EmailField) or LOOKS_PERSONAL.search(field.name)
            if looks_personal and (_label(model), field.name) not in registered():
                unknown.append(f"{_label(model)}.{field.name}")
    assert unknown == [], (
        "Personal data the erasure does not know: add it to privacy.registry.PERSONAL_FIELDS (and handle it in "
        f"privacy.services) or to NOT_SUBJECT_DATA with the reason: {unknown}")


def test_every_place_on_the_map_exists():
    for label, name in [(f.model, f.field) for f in PERSONAL_FIELDS] + [(m, f) for m, f, _json in NAMING_TEXTS] + list(
            NOT_SUBJECT_DATA):
        apps.get_model(label)._meta.get_field(name)  # raises for a name that is gone
