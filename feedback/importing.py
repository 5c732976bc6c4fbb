"""Import of feedback from elsewhere — a review site's export, a call centre's notes, a social
listening tool — as a CSV or XLSX file, one item per row.

Every row goes through the same door as every other source (`services.ingest`), keyed by its
`source_id` (or, when the file has none, a hash of the row), so importing the same file twice
adds nothing. An import job (`cxplatform.import_jobs`) reads the file within the shared reading
limits, in a worker: good rows are kept, bad rows are reported with their row number (the header is
row 1) and the reasons, and skipped.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from cxplatform.import_jobs import RowError, RowImporter, Saved
from cxplatform.tabular import ImportFileError, cell_text, parse_moment
from journeys.models import Channel, Touchpoint

from . import services
from .models import FeedbackImportJob, FeedbackItem

COLUMNS = ("text", "source", "source_id", "received_at", "rating", "language", "channel", "touchpoint",
           "customer_external_id", "customer_email", "customer_phone", "customer_name")
SOURCES = {code for code, _label in FeedbackItem.Source.choices if code != FeedbackItem.Source.SURVEY}
LANGUAGES = {code for code, _name in settings.LANGUAGES}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
RATING_RANGE = (0, 10)


@dataclass
class _Row:
    number: int
    voice: services.Voice | None
    errors: list[str]


def _columns(cells: list) -> tuple[dict[str, int], list[str]]:
    positions, ignored = {}, []
    for index, cell in enumerate(cells):
        name = cell_text(cell).lower()
        if not name:
            continue
        if name in COLUMNS:
            if name in positions:
                raise ImportFileError(_("The column “%(column)s” appears more than once.") % {"column": name})
            positions[name] = index
        else:
            ignored.append(cell_text(cell))
    if "text" not in positions:
        raise ImportFileError(_("The file lacks the required column “text”. The first row must name the columns."))
    return positions, ignored


class _Lookup:
    """Channels and touchpoints of the organization by name, case-insensitive."""

    def __init__(self, organization):
        self.channels = {name: pk for pk, name in scoped_names(Channel, organization)}
        self.touchpoints = {name: pk for pk, name in scoped_names(Touchpoint, organization)}


def scoped_names(model, organization):
    return model.objects.filter(organization=organization).annotate(key=Lower("name")).values_list("pk", "key")


def _parse(number: int, cells: list, positions: dict[str, int], lookup: _Lookup, now: datetime) -> _Row:
    def text(name):
        index = positions.get(name)
        return cell_text(cells[index]) if index is not None and index < len(cells) else ""

    def raw(name):
        index = positions.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    errors = []
    body = text("text")
    if not body:
        errors.append(_("text: the text is empty."))
    elif len(body) > services.MAX_TEXT:
        errors.append(_("text: longer than %(n)d characters.") % {"n": services.MAX_TEXT})
    source = text("source").lower() or FeedbackItem.Source.IMPORT
    if source not in SOURCES:
        errors.append(_("source: “%(value)s” is not one of %(codes)s.") % {"value": source[:30],
                                                                           "codes": ", ".join(sorted(SOURCES))})
    received_at = None
    if text("received_at") or isinstance(raw("received_at"), datetime):
        try:
            value = raw("received_at")
            received_at = parse_moment(value if isinstance(value, datetime) else text("received_at"), now)
        except ValueError as exc:
            errors.append(f"received_at: {exc}")
    rating = None
    if text("rating"):
        try:
            rating = int(text("rating"))
            if not RATING_RANGE[0] <= rating <= RATING_RANGE[1]:
                raise ValueError
        except ValueError:
            errors.append(_("rating: “%(value)s” is not a whole number from 0 to 10.") % {"value": text("rating")[:20]})
            rating = None
    language = text("language").lower()
    if language and language not in LANGUAGES:
        errors.append(_("language: “%(value)s” is not one of %(codes)s.") % {"value": language[:10],
                                                                             "codes": ", ".join(sorted(LANGUAGES))})
    channel = touchpoint = None
    if text("channel"):
        channel = lookup.channels.get(text("channel").lower())
        if channel is None:
            errors.append(_("channel: there is no channel “%(value)s”.") % {"value": text("channel")[:60]})
    if text("touchpoint"):
        touchpoint = lookup.touchpoints.get(text("touchpoint").lower())
        if touchpoint is None:
            errors.append(_("touchpoint: there is no touchpoint “%(value)s”.") % {"value": text("touchpoint")[:60]})
    if text("customer_email"):
        try:  # the items API refuses such an address too; a reply to it could never be delivered
            validate_email(text("customer_email"))
        except ValidationError:
            errors.append(_("customer_email: “%(value)s” is not an e-mail address.")
                          % {"value": text("customer_email")[:60]})
    if errors:
        return _Row(number, None, errors)
    ref = {key: text(f"customer_{key}") for key in ("external_id", "email", "phone", "name")
           if text(f"customer_{key}")}
    source_id = text("source_id")[:200] or _row_key(source, body, received_at, ref)
    voice = services.Voice(source=source, source_id=source_id, text=body, received_at=received_at, rating=rating,
                           # Unsaved stand-ins carrying the id are all a foreign key needs.
                           language=language, channel=Channel(pk=channel) if channel else None,
                           touchpoint=Touchpoint(pk=touchpoint) if touchpoint else None,
                           customer_ref=ref if set(ref) - {"name"} else None)
    return _Row(number, voice, [])


def _row_key(source, body, received_at, ref) -> str:
    """A row with no id of its own is known by its content: the same row imported again is found."""
    content = "\x1f".join([source, body, received_at.isoformat() if received_at else "",
                           *(f"{k}={v}" for k, v in sorted(ref.items()))])
    return "import:" + hashlib.sha256(content.encode()).hexdigest()[:40]


class InboxImporter(RowImporter):
    """The rows of one FeedbackImportJob (saved or not: an unsaved one checks an upload). An item
    already in the inbox — the same source id, or the same content — counts as existing."""

    def __init__(self, job: FeedbackImportJob):
        self.organization, self.actor = job.organization, job.created_by
        self.lookup = None
        self.positions: dict[str, int] = {}
        self.now = timezone.now()

    def start(self, header: list) -> list[str]:
        self.positions, ignored = _columns(header)
        self.lookup = _Lookup(self.organization)
        return ignored

    def parse(self, number: int, cells: list) -> services.Voice:
        row = _parse(number, cells, self.positions, self.lookup, self.now)
        if row.errors:
            raise RowError(row.errors)
        return row.voice

    def save(self, rows: list[services.Voice]) -> Saved:
        saved = Saved()
        for voice in rows:
            _item, created = services.ingest(self.organization, voice, actor=self.actor)
            if created:
                saved.imported += 1
            else:
                saved.duplicates += 1
        return saved
