"""Optimistic locking for edits: every edit names the version of the row the person read, and a
row changed since is refused (nothing saved) instead of silently losing the other person's change.

The inbox item has carried this since its triage form; goals, action items, surveys, pain points
and the settings forms share this one implementation: models inherit `Versioned`, ModelForms mix
in `VersionedModelForm`, services call `lock_version()` in their transaction.
"""

from django import forms
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class StaleEdit(Exception):
    """Someone saved the row after the editor read it; nothing was saved."""

    def __init__(self, message: str | None = None):
        super().__init__(message or _("Someone else changed this after you opened it, so nothing was saved. "
                                      "Reload the page to see their change, then make yours again."))


class Versioned(models.Model):
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True


def lock_version(row, seen: int | None, *, deleting: bool = False):
    """Lock `row`'s database row and move `row.version` on from it — or StaleEdit when the row is
    no longer at `seen`. None skips the check (an API client that sends no version: the last write
    wins, as it asked). Call inside a transaction, then save `row`.

    `deleting`: the caller checks that nothing refers to the row, then deletes it. The row is then
    locked FOR UPDATE, which holds back every write referring to it (an answer to a survey) until
    the delete is done: none is recorded between the check and the delete, to be deleted with it
    (docs/adr/0035). Any other edit locks FOR NO KEY UPDATE, which holds back no such write."""
    rows = type(row)._base_manager.select_for_update(no_key=not deleting)
    current = rows.values_list("version", flat=True).get(pk=row.pk)
    if seen is not None and current != seen:
        raise StaleEdit()
    row.version = current + 1
    return row


def version_field() -> forms.IntegerField:
    """The hidden field of a plain form that edits a `Versioned` row (optional: the same form
    may create one)."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False, label=gettext_lazy("Version"))


class VersionedModelForm(forms.ModelForm):
    """A ModelForm of a `Versioned` model: carries the version it was shown at in a hidden field
    and refuses to save over a later one (the error is the form's, the row is untouched)."""

    version = version_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].required = True
            self.initial.setdefault("version", self.instance.version)

    def save(self, commit=True):
        if not commit or not self.instance.pk:
            return super().save(commit)
        with transaction.atomic():
            try:
                lock_version(self.instance, self.cleaned_data.get("version"))
            except StaleEdit as exc:
                self.add_error(None, str(exc))
                raise
            return super().save(commit)
