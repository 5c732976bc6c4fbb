"""A journey map as JSON, and back: for sharing maps, backups and the template library.

The format (`"format": "cx-journey-map", "version": 1`) carries no database ids: touchpoints are
named, a pain point names its touchpoint and an opportunity refers to its pain point by index
in `pain_points`. Importing always creates a new map, in one transaction; a file with any error
creates nothing and every error is reported at once, with where it is.
"""

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import (
    EMOTION_MAX,
    EMOTION_MIN,
    ActivityEntry,
    Channel,
    JourneyMap,
    Opportunity,
    PainPoint,
    Persona,
    Stage,
    Touchpoint,
)
from .services import channel_by_name, log_activity, unique_touchpoint_name

FORMAT, VERSION = "cx-journey-map", 1
MAX_STAGES, MAX_TOUCHPOINTS, MAX_ITEMS = 30, 500, 500
MAX_ERRORS = 25
LIBRARY_DIR = Path(__file__).resolve().parent / "templates_library"


class MapImportError(ValueError):
    """The data is not a journey map this site can read; `errors` says every reason found."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


# ---------------------------------------------------------------------------------------------
# Export


def export_map(journey_map) -> dict:
    persona = journey_map.persona
    stages = list(Stage.objects.filter(journey_map=journey_map).order_by("position", "id"))
    touchpoints = {
        stage.pk: list(Touchpoint.objects.filter(stage=stage).select_related("channel").order_by("position", "id"))
        for stage in stages
    }
    on_map = {t.pk: t.name for ts in touchpoints.values() for t in ts}
    pain_points = list(PainPoint.objects.filter(journey_map=journey_map).order_by("id"))
    index_of = {p.pk: i for i, p in enumerate(pain_points)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": journey_map.name,
        "description": journey_map.description,
        "persona": {
            "name": persona.name,
            "description": persona.description,
            "segment_rule": persona.segment_rule or {},
            "goals": persona.goals,
            "photo_url": persona.photo_url,
        },
        "stages": [
            {"name": stage.name, "touchpoints": [_touchpoint(t) for t in touchpoints[stage.pk]]}
            for stage in stages
        ],
        "pain_points": [
            {"description": p.description, "severity": p.severity, "status": p.status,
             "touchpoint": on_map.get(p.touchpoint_id)}
            for p in pain_points
        ],
        "opportunities": [
            {"idea": o.idea, "impact": o.impact, "pain_point": index_of.get(o.pain_point_id)}
            for o in Opportunity.objects.filter(journey_map=journey_map).order_by("id")
        ],
    }


def _touchpoint(t):
    data = {
        "name": t.name,
        "channel": {"name": t.channel.name, "kind": t.channel.kind} if t.channel else None,
        "customer_goal": t.customer_goal,
        "department": t.department,
        "expected_emotion": t.expected_emotion,
        "description": t.description,
    }
    if t.archived:
        data["archived"] = True
    return data


# ---------------------------------------------------------------------------------------------
# Validation


class _Checker:
    def __init__(self):
        self.errors = []

    def fail(self, where, message):
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(f"{where.lstrip('.')}: {message}" if where else message)

    def obj(self, value, where):
        if not isinstance(value, dict):
            self.fail(where, _("must be an object."))
            return None
        return value

    def items(self, value, where, limit, required=False):
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.fail(where, _("must be a list."))
            return []
        if required and not value:
            self.fail(where, _("must not be empty."))
        if len(value) > limit:
            self.fail(where, _("has too many entries (at most %(n)d).") % {"n": limit})
            return []
        return value

    def text(self, data, key, where, max_length=None, required=False):
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", _("must be text."))
            return ""
        if required and not value.strip():
            self.fail(f"{where}.{key}", _("is required."))
        if max_length and len(value) > max_length:
            self.fail(f"{where}.{key}", _("is longer than %(n)d characters.") % {"n": max_length})
        return value.strip() if required else value

    def number(self, data, key, where, low, high, required=False):
        value = data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"{where}.{key}", _("must be a whole number from %(low)d to %(high)d.")
                      % {"low": low, "high": high})
            return None
        return value

    def choice(self, data, key, where, choices, default):
        value = data.get(key, default)
        if value not in choices:
            self.fail(f"{where}.{key}", _("must be one of: %(choices)s.") % {"choices": ", ".join(choices)})
        return value


def validate(data, need_persona=True):
    """A list of every problem found in `data` (empty when it can be imported)."""
    check = _Checker()
    if not isinstance(data, dict):
        return [_("The file is not a journey map: expected a JSON object.")]
    if data.get("format") != FORMAT:
        return [_('The file is not a journey map export: "format" must be "%(format)s".') % {"format": FORMAT}]
    if data.get("version") != VERSION:
        return [_("Unsupported version %(version)s: this site reads version %(supported)d.")
                % {"version": json.dumps(data.get("version")), "supported": VERSION}]
    check.text(data, "name", "", max_length=200, required=True)
    check.text(data, "description", "")
    if need_persona:
        persona = check.obj(data.get("persona"), "persona")
        if persona is not None:
            check.text(persona, "name", "persona", max_length=200, required=True)
            for key in ("description", "goals"):
                check.text(persona, key, "persona")
            photo = check.text(persona, "photo_url", "persona", max_length=200)
            if photo:
                try:
                    URLValidator(schemes=["http", "https"])(photo)
                except ValidationError:
                    check.fail("persona.photo_url", _("must be an http(s) address."))
            rule = persona.get("segment_rule") or {}
            if not isinstance(rule, dict) or (rule and not (
                isinstance(rule.get("attribute"), str) and rule["attribute"].strip()
                and isinstance(rule.get("values"), list) and all(isinstance(v, str) for v in rule["values"])
            )):
                check.fail("persona.segment_rule", _('must be {"attribute": "…", "values": ["…"]} or empty.'))
    names = set()
    stages = check.items(data.get("stages"), "stages", MAX_STAGES, required=True)
    total = 0
    for i, stage in enumerate(stages):
        where = f"stages[{i}]"
        if check.obj(stage, where) is None:
            continue
        check.text(stage, "name", where, max_length=100, required=True)
        touchpoints = check.items(stage.get("touchpoints"), f"{where}.touchpoints", MAX_TOUCHPOINTS)
        total += len(touchpoints)
        for j, tp in enumerate(touchpoints):
            tp_where = f"{where}.touchpoints[{j}]"
            if check.obj(tp, tp_where) is None:
                continue
            name = check.text(tp, "name", tp_where, max_length=200, required=True)
            if name in names:
                check.fail(f"{tp_where}.name", _("the touchpoint name %(name)s appears twice.")
                           % {"name": json.dumps(name, ensure_ascii=False)})
            names.add(name)
            for key in ("customer_goal", "description"):
                check.text(tp, key, tp_where)
            check.text(tp, "department", tp_where, max_length=100)
            check.number(tp, "expected_emotion", tp_where, EMOTION_MIN, EMOTION_MAX)
            if not isinstance(tp.get("archived", False), bool):
                check.fail(f"{tp_where}.archived", _("must be true or false."))
            channel = tp.get("channel")
            if channel is not None and check.obj(channel, f"{tp_where}.channel") is not None:
                check.text(channel, "name", f"{tp_where}.channel", max_length=100, required=True)
                check.choice(channel, "kind", f"{tp_where}.channel", Channel.Kind.values, Channel.Kind.WEB)
    if total > MAX_TOUCHPOINTS:
        check.fail("stages", _("has too many touchpoints (at most %(n)d).") % {"n": MAX_TOUCHPOINTS})
    pain_points = check.items(data.get("pain_points"), "pain_points", MAX_ITEMS)
    for i, pain in enumerate(pain_points):
        where = f"pain_points[{i}]"
        if check.obj(pain, where) is None:
            continue
        check.text(pain, "description", where, required=True)
        check.number(pain, "severity", where, 1, 4, required=True)
        check.choice(pain, "status", where, PainPoint.Status.values, PainPoint.Status.OPEN)
        touchpoint = pain.get("touchpoint")
        if touchpoint is not None and touchpoint not in names:
            check.fail(f"{where}.touchpoint", _("names a touchpoint that is not on the map: %(name)s.")
                       % {"name": json.dumps(touchpoint, ensure_ascii=False)})
    for i, opportunity in enumerate(check.items(data.get("opportunities"), "opportunities", MAX_ITEMS)):
        where = f"opportunities[{i}]"
        if check.obj(opportunity, where) is None:
            continue
        check.text(opportunity, "idea", where, required=True)
        check.choice(opportunity, "impact", where, Opportunity.Impact.values, Opportunity.Impact.MEDIUM)
        ref = opportunity.get("pain_point")
        if ref is not None and (isinstance(ref, bool) or not isinstance(ref, int) or not 0 <= ref < len(pain_points)):
            check.fail(f"{where}.pain_point", _("must be the index of an entry of pain_points, or null."))
    return check.errors


# ---------------------------------------------------------------------------------------------
# Import


def _persona(organization, data):
    rule = data.get("segment_rule") or {}
    persona, _created = Persona.objects.get_or_create(
        organization=organization, name=data["name"].strip(),
        defaults={
            "description": data.get("description") or "",
            "goals": data.get("goals") or "",
            "photo_url": data.get("photo_url") or "",
            "segment_rule": {"attribute": rule["attribute"].strip(), "values": rule["values"]} if rule else {},
        },
    )
    return persona


@transaction.atomic
def import_map(organization, data, actor, persona=None):
    """A new map of `organization` from exported `data`; raises MapImportError and creates nothing
    when the data is wrong. Channels are matched by name (or created); a touchpoint whose name
    the organization already uses gets " (2)", " (3)", … appended."""
    errors = validate(data, need_persona=persona is None)
    if errors:
        raise MapImportError(errors)
    if persona is not None and persona.organization_id != organization.pk:
        raise MapImportError([_("persona: not found.")])
    persona = persona or _persona(organization, data["persona"])
    journey_map = JourneyMap.objects.create(
        organization=organization, persona=persona, name=data["name"].strip(),
        description=data.get("description") or "",
    )
    touchpoints, renamed = {}, {}
    for position, stage_data in enumerate(data["stages"]):
        stage = Stage.objects.create(organization=organization, journey_map=journey_map,
                                     name=stage_data["name"].strip(), position=position)
        for tp_position, tp in enumerate(stage_data.get("touchpoints") or []):
            channel = tp.get("channel")
            name = unique_touchpoint_name(organization, tp["name"].strip())
            if name != tp["name"]:
                renamed[tp["name"]] = name
            touchpoints[tp["name"]] = Touchpoint.objects.create(
                organization=organization, stage=stage, position=tp_position, name=name,
                channel=channel_by_name(organization, channel["name"].strip(), channel.get("kind") or Channel.Kind.WEB)
                if channel else None,
                customer_goal=tp.get("customer_goal") or "", department=(tp.get("department") or "").strip(),
                expected_emotion=tp.get("expected_emotion"), description=tp.get("description") or "",
                archived=tp.get("archived", False),
            )
    pain_points = [
        PainPoint.objects.create(
            organization=organization, journey_map=journey_map, description=p["description"].strip(),
            severity=p["severity"], status=p.get("status") or PainPoint.Status.OPEN,
            touchpoint=touchpoints.get(p.get("touchpoint")),
        )
        for p in data.get("pain_points") or []
    ]
    for o in data.get("opportunities") or []:
        ref = o.get("pain_point")
        Opportunity.objects.create(
            organization=organization, journey_map=journey_map, idea=o["idea"].strip(),
            impact=o.get("impact") or Opportunity.Impact.MEDIUM,
            pain_point=pain_points[ref] if ref is not None else None,
        )
    log_activity(journey_map, actor, ActivityEntry.Action.MAP_IMPORTED, journey_map.name,
         stages=len(data["stages"]), touchpoints=len(touchpoints), renamed=renamed)
    return journey_map


# ---------------------------------------------------------------------------------------------
# Template library


# The texts a template writes into a map (never codes such as a channel's kind or an impact).
TRANSLATED_KEYS = {"name", "description", "goals", "customer_goal", "department", "idea", "touchpoint"}


def template_language(language: str | None) -> str:
    """One of our languages: `language` when it is one, else the reader's."""
    codes = [code for code, _label in settings.LANGUAGES]
    language = (language or get_language() or "").split("-")[0]
    return language if language in codes else settings.LANGUAGE_CODE


def _translated(value, texts: dict, key=None):
    """`value` with every text under TRANSLATED_KEYS replaced by its translation, if it has one."""
    if isinstance(value, dict):
        return {k: _translated(v, texts, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_translated(v, texts, key) for v in value]
    if isinstance(value, str) and key in TRANSLATED_KEYS:
        return texts.get(value, value)
    return value


def _in_language(data: dict, language: str | None) -> dict:
    """A template in `language` (the reader's by default). Each template file is written in
    English and carries `"translations": {"ru": {english: russian}, "lv": {…}}`; a text without
    a translation stays English."""
    texts = data.pop("translations", {}).get(template_language(language), {})
    return _translated(data, texts)


def _read(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def library(language: str | None = None):
    """The templates shipped in templates_library/, in `language` (the reader's by default):
    [{"slug", "name", "description", "languages"}]."""
    entries = []
    for path in sorted(LIBRARY_DIR.glob("*.json")):
        data = _read(path)
        languages = [settings.LANGUAGE_CODE, *sorted(data.get("translations", {}))]
        data = _in_language(data, language)
        entries.append({"slug": path.stem, "name": data["name"], "description": data.get("description", ""),
                        "languages": languages})
    return entries


def load_template(slug, language: str | None = None) -> dict:
    """The template `slug` as a map to import, its texts in `language` (the reader's by default)."""
    if not isinstance(slug, str):
        raise MapImportError([_("“template” is the name of a template, as text.")])
    if slug not in {path.stem for path in LIBRARY_DIR.glob("*.json")}:
        raise MapImportError([_("There is no template %(slug)s.") % {"slug": json.dumps(slug, ensure_ascii=False)}])
    return _in_language(_read(LIBRARY_DIR / f"{slug}.json"), language)


def import_template(organization, slug, actor, persona=None, language: str | None = None):
    return import_map(organization, load_template(slug, language), actor, persona=persona)
