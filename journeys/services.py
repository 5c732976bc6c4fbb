"""Changes to personas' journey maps: the one place their rules live.

Every change that touches a map
- runs in one transaction holding the map row's lock (`select_for_update(no_key=True)`), so two people
  dragging cards at once never interleave their renumbering;
- keeps positions dense (0, 1, 2, …) within the map's stages and within each stage;
- writes an `ActivityEntry` naming the actor, for the map's history.

A touchpoint that another app still points at with PROTECT (a survey's answers or links) is
archived, never deleted, so no answer loses its place. Journeys cannot import surveys (the
arrows in DESIGN.md), so that is found generically through the model's reverse relations.
"""

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxplatform.versioning import lock_version

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

Action = ActivityEntry.Action

# A new map starts from the classic five stages; renamable and reorderable afterwards.
DEFAULT_STAGES = [
    gettext_lazy("Awareness"),
    gettext_lazy("Consideration"),
    gettext_lazy("Purchase"),
    gettext_lazy("Use"),
    gettext_lazy("Loyalty"),
]

TOUCHPOINT_FIELDS = ("name", "channel", "description", "customer_goal", "department", "expected_emotion")


class JourneyError(ValueError):
    """A change the rules refuse; the message is for the person who asked for it."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------------
# Helpers


def _lock(journey_map):
    """The map row, locked until the transaction ends: every map change goes through here."""
    return JourneyMap.objects.select_for_update(no_key=True).get(pk=journey_map.pk)


def log_activity(journey_map, actor, action, subject="", **details):
    return ActivityEntry.objects.create(
        organization_id=journey_map.organization_id, journey_map=journey_map,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action, subject=str(subject)[:300], details=details,
    )


def _touch(journey_map):
    JourneyMap.objects.filter(pk=journey_map.pk).update(updated_at=timezone.now())


def _same_org(obj, other, field):
    if obj is not None and other is not None and obj.organization_id != other.organization_id:
        raise JourneyError(_("Not found."), field=field)


def _clean_name(name, field="name", max_length=200):
    name = (name or "").strip()
    if not name:
        raise JourneyError(_("A name is required."), field=field)
    if len(name) > max_length:
        raise JourneyError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return name


def _clean_emotion(value):
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not EMOTION_MIN <= value <= EMOTION_MAX:
        raise JourneyError(_("The expected emotion is a whole number from -2 to +2."), field="expected_emotion")
    return value


def _place(items, item, position):
    """`items` (ordered, without `item`) with `item` inserted at `position` (clamped)."""
    position = len(items) if position is None else max(0, min(int(position), len(items)))
    return [*items[:position], item, *items[position:]]


def _renumber(items):
    """Dense positions 0…n-1 in the given order; writes only the rows that changed."""
    changed = []
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index
            changed.append(item)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position"])


def _stages(journey_map):
    return list(Stage.objects.filter(journey_map=journey_map).order_by("position", "id"))


def _touchpoints_of(stage, exclude=None):
    qs = Touchpoint.objects.filter(stage=stage).order_by("position", "id")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def unique_touchpoint_name(organization, name, exclude=None):
    """`name`, or `name (2)`, `name (3)`, … — the first one free in the organization."""
    taken = Touchpoint.objects.filter(organization=organization)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    candidate, n = name, 1
    while taken.filter(name=candidate).exists():
        n += 1
        suffix = f" ({n})"
        candidate = name[: 200 - len(suffix)] + suffix
    return candidate


# ---------------------------------------------------------------------------------------------
# Answers that keep a touchpoint alive


def protecting_relations(model=Touchpoint):
    """Reverse relations from other apps that forbid deleting a row of `model` (PROTECT/RESTRICT)."""
    return [
        rel for rel in model._meta.related_objects
        if getattr(rel, "on_delete", None) in (models.PROTECT, models.RESTRICT)
        and rel.related_model._meta.app_label != model._meta.app_label
    ]


def has_answers(touchpoint) -> bool:
    """Whether another app's rows (survey responses, links) still point at the touchpoint."""
    return any(
        rel.related_model._base_manager.filter(**{rel.field.name: touchpoint}).exists()
        for rel in protecting_relations(type(touchpoint))
    )


def _delete_or_archive(touchpoint):
    """Deletes the touchpoint, or archives it when answers point at it. Returns "deleted"/"archived"."""
    if not has_answers(touchpoint):
        try:
            with transaction.atomic():
                touchpoint.delete()
            return "deleted"
        except (models.ProtectedError, models.RestrictedError):
            pass  # an answer arrived since the check: keep the touchpoint after all
    touchpoint.archived = True
    touchpoint.save(update_fields=["archived", "stage", "position"])
    return "archived"


# ---------------------------------------------------------------------------------------------
# Personas


def create_persona(organization, name, actor, description="", goals=""):
    """A new persona of `organization`; names are unique per organization. A persona has no
    history of its own (the activity log is per map), so `actor` is only for symmetry."""
    name = _clean_name(name)
    if Persona.objects.filter(organization=organization, name=name).exists():
        raise JourneyError(_("A persona with this name already exists."), field="name")
    return Persona.objects.create(organization=organization, name=name, description=(description or "").strip(),
                                  goals=(goals or "").strip())


# ---------------------------------------------------------------------------------------------
# Maps


@transaction.atomic
def create_map(persona, name, actor, stages=None, description=""):
    """A new map of `persona`, with `stages` (names) or the default five."""
    journey_map = JourneyMap.objects.create(
        organization_id=persona.organization_id, persona=persona, name=_clean_name(name),
        description=description or "",
    )
    names = DEFAULT_STAGES if stages is None else stages
    Stage.objects.bulk_create([
        Stage(organization_id=persona.organization_id, journey_map=journey_map,
              name=_clean_name(str(stage_name), max_length=100), position=index)
        for index, stage_name in enumerate(names)
    ])
    log_activity(journey_map, actor, Action.MAP_CREATED, journey_map.name, stages=[str(n) for n in names])
    return journey_map


@transaction.atomic
def update_map(journey_map, actor, **fields):
    journey_map = _lock(journey_map)
    changes = {}
    if "name" in fields:
        fields["name"] = _clean_name(fields["name"])
    if "persona" in fields:
        _same_org(fields["persona"], journey_map, "persona")
    for key in ("name", "description", "persona"):
        if key in fields and getattr(journey_map, key) != fields[key]:
            changes[key] = [str(getattr(journey_map, key)), str(fields[key])]
            setattr(journey_map, key, fields[key])
    if changes:
        journey_map.save()
        log_activity(journey_map, actor, Action.MAP_UPDATED, journey_map.name, changes=changes)
    return journey_map


@transaction.atomic
def delete_map(journey_map, actor):
    """Deletes the map by the stage rule: touchpoints with answers are archived and kept."""
    journey_map = _lock(journey_map)
    result = {"deleted": [], "archived": []}
    for stage in _stages(journey_map):
        for touchpoint in _touchpoints_of(stage):
            touchpoint.stage, touchpoint.position = None, 0
            result[_delete_or_archive(touchpoint)].append(touchpoint.name)
    journey_map.delete()
    return result


# ---------------------------------------------------------------------------------------------
# Stages


@transaction.atomic
def add_stage(journey_map, name, actor, position=None):
    journey_map = _lock(journey_map)
    stage = Stage(organization_id=journey_map.organization_id, journey_map=journey_map,
                  name=_clean_name(name, max_length=100), position=0)
    stage.save()
    _renumber(_place([s for s in _stages(journey_map) if s.pk != stage.pk], stage, position))
    log_activity(journey_map, actor, Action.STAGE_ADDED, stage.name, position=stage.position)
    _touch(journey_map)
    return stage


@transaction.atomic
def rename_stage(stage, name, actor):
    journey_map = _lock(stage.journey_map)
    stage.refresh_from_db()
    old, stage.name = stage.name, _clean_name(name, max_length=100)
    if old != stage.name:
        stage.save(update_fields=["name"])
        log_activity(journey_map, actor, Action.STAGE_RENAMED, stage.name, old=old, new=stage.name)
        _touch(journey_map)
    return stage


@transaction.atomic
def move_stage(stage, position, actor):
    journey_map = _lock(stage.journey_map)
    stage.refresh_from_db()
    old = stage.position
    _renumber(_place([s for s in _stages(journey_map) if s.pk != stage.pk], stage, position))
    if stage.position != old:
        log_activity(journey_map, actor, Action.STAGE_MOVED, stage.name, old=old, new=stage.position)
        _touch(journey_map)
    return stage


STEPS = {"left": -1, "right": 1, "up": -1, "down": 1}


def step_stage(stage, direction, actor):
    """Moves the stage one place left or right; at either end of the map it stays put."""
    if direction not in ("left", "right"):
        raise JourneyError(_("A stage moves left or right."), field="direction")
    stage.refresh_from_db()
    return move_stage(stage, max(0, stage.position + STEPS[direction]), actor)


@transaction.atomic
def delete_stage(stage, actor):
    """Deletes the stage. Its touchpoints without answers go with it; those with answers are
    archived and move to the end of the previous stage (none when it was the first)."""
    journey_map = _lock(stage.journey_map)
    stages = _stages(journey_map)
    stage = next(s for s in stages if s.pk == stage.pk)
    index = stages.index(stage)
    previous = stages[index - 1] if index > 0 else None
    keep_after = _touchpoints_of(previous) if previous else []
    result = {"deleted": [], "archived": []}
    for touchpoint in _touchpoints_of(stage):
        touchpoint.stage, touchpoint.position = previous, 0
        outcome = _delete_or_archive(touchpoint)
        result[outcome].append(touchpoint.name)
        if outcome == "archived" and previous is not None:
            keep_after.append(touchpoint)
    if previous is not None:
        _renumber(keep_after)
    stage.delete()
    _renumber([s for s in stages if s.pk != stage.pk])
    log_activity(journey_map, actor, Action.STAGE_DELETED, stage.name, **result)
    _touch(journey_map)
    return result


# ---------------------------------------------------------------------------------------------
# Touchpoints


def _clean_touchpoint_fields(organization_id, fields):
    clean = {}
    for key, value in fields.items():
        if key not in TOUCHPOINT_FIELDS:
            raise JourneyError(_("Unknown field."), field=key)
        if key == "name":
            value = _clean_name(value)
        elif key == "expected_emotion":
            value = _clean_emotion(value)
        elif key == "channel":
            if value is not None and value.organization_id != organization_id:
                raise JourneyError(_("Not found."), field="channel")
        elif key == "department":
            value = (value or "").strip()[:100]
        else:
            value = value or ""
        clean[key] = value
    return clean


@transaction.atomic
def add_touchpoint(stage, name, actor, position=None, **fields):
    """A new touchpoint on `stage` at `position` (the end when None)."""
    journey_map = _lock(stage.journey_map)
    fields = _clean_touchpoint_fields(stage.organization_id, {"name": name, **fields})
    if Touchpoint.objects.filter(organization_id=stage.organization_id, name=fields["name"]).exists():
        raise JourneyError(_("A touchpoint with this name already exists."), field="name")
    touchpoint = Touchpoint.objects.create(organization_id=stage.organization_id, stage=stage, position=0, **fields)
    _renumber(_place(_touchpoints_of(stage, exclude=touchpoint), touchpoint, position))
    log_activity(journey_map, actor, Action.TOUCHPOINT_ADDED, touchpoint.name, stage=stage.name,
         position=touchpoint.position)
    _touch(journey_map)
    return touchpoint


@transaction.atomic
def update_touchpoint(touchpoint, actor, *, version: int | None = None, **fields):
    """Renames or changes the touchpoint's goal, department, emotion, channel or description, as
    seen at `version`."""
    journey_map = _lock(touchpoint.stage.journey_map) if touchpoint.stage_id else None
    touchpoint.refresh_from_db()
    lock_version(touchpoint, version)
    fields = _clean_touchpoint_fields(touchpoint.organization_id, fields)
    if "name" in fields and Touchpoint.objects.filter(
        organization_id=touchpoint.organization_id, name=fields["name"]
    ).exclude(pk=touchpoint.pk).exists():
        raise JourneyError(_("A touchpoint with this name already exists."), field="name")
    changes = {}
    for key, value in fields.items():
        old = getattr(touchpoint, key)
        if old != value:
            changes[key] = [_plain(old), _plain(value)]
            setattr(touchpoint, key, value)
    if changes:
        touchpoint.save(update_fields=[*changes, "version"])
        if journey_map is not None:
            log_activity(journey_map, actor, Action.TOUCHPOINT_UPDATED, touchpoint.name, changes=changes)
            _touch(journey_map)
    return touchpoint


def rename_touchpoint(touchpoint, name, actor):
    return update_touchpoint(touchpoint, actor, name=name)


def _plain(value):
    return value if value is None or isinstance(value, int | str) else str(value)


@transaction.atomic
def move_touchpoint(touchpoint, stage, position, actor):
    """Puts the touchpoint at `position` of `stage` (its own or another, or None: off the map),
    renumbering both stages.

    Also places a touchpoint that is on no map yet. Locks every map involved, in id order, so
    two moves never deadlock or interleave.
    """
    _same_org(stage, touchpoint, "stage")
    touchpoint.refresh_from_db()
    source = touchpoint.stage
    map_ids = sorted({s.journey_map_id for s in (stage, source) if s is not None})
    locked = {m.pk: m for m in JourneyMap.objects.select_for_update(no_key=True).filter(pk__in=map_ids).order_by("pk")}
    old = {"stage": source.name if source else None, "position": touchpoint.position}
    old_place = (source.pk if source else None, touchpoint.position)
    touchpoint.stage = stage
    if stage is None:
        touchpoint.position = 0
    touchpoint.save(update_fields=["stage", "position"])
    if source is not None and (stage is None or source.pk != stage.pk):
        _renumber(_touchpoints_of(source, exclude=touchpoint))
    if stage is not None:
        _renumber(_place(_touchpoints_of(stage, exclude=touchpoint), touchpoint, position))
    new = {"stage": stage.name if stage else None, "position": touchpoint.position}
    if old_place != (stage.pk if stage else None, touchpoint.position):
        for map_id in map_ids:
            details = {"old": old, "new": new}
            if stage is not None and map_id != stage.journey_map_id:
                details["new"] = {**new, "map": locked[stage.journey_map_id].name}
            log_activity(locked[map_id], actor, Action.TOUCHPOINT_MOVED, touchpoint.name, **details)
            _touch(locked[map_id])
    return touchpoint


def step_touchpoint(touchpoint, direction, actor):
    """One step on the board: up or down within its stage, or left or right to the end of the
    neighbouring stage. At an edge of the board it stays put."""
    if direction not in STEPS:
        raise JourneyError(_("A touchpoint moves up, down, left or right."), field="direction")
    touchpoint.refresh_from_db()
    stage = touchpoint.stage
    if stage is None:
        raise JourneyError(_("The touchpoint is on no map."), field="direction")
    if direction in ("up", "down"):
        return move_touchpoint(touchpoint, stage, max(0, touchpoint.position + STEPS[direction]), actor)
    neighbour = (Stage.objects.filter(journey_map_id=stage.journey_map_id,
                                      position=stage.position + STEPS[direction]).first())
    if neighbour is None:
        return touchpoint
    return move_touchpoint(touchpoint, neighbour, None, actor)


def create_touchpoint(organization, name, actor, **fields):
    """A touchpoint on no map yet (it can be placed on a stage later with move_touchpoint)."""
    fields = _clean_touchpoint_fields(organization.pk, {"name": name, **fields})
    if Touchpoint.objects.filter(organization=organization, name=fields["name"]).exists():
        raise JourneyError(_("A touchpoint with this name already exists."), field="name")
    return Touchpoint.objects.create(organization=organization, **fields)


@transaction.atomic
def delete_touchpoint(touchpoint, actor):
    """Deletes the touchpoint, or archives it (staying on its stage) when it has answers.

    Returns "deleted" or "archived".
    """
    journey_map = _lock(touchpoint.stage.journey_map) if touchpoint.stage_id else None
    touchpoint.refresh_from_db()
    stage, name = touchpoint.stage, touchpoint.name
    outcome = _delete_or_archive(touchpoint)
    if outcome == "deleted" and stage is not None:
        _renumber(_touchpoints_of(stage))
    if journey_map is not None:
        action = Action.TOUCHPOINT_DELETED if outcome == "deleted" else Action.TOUCHPOINT_ARCHIVED
        log_activity(journey_map, actor, action, name, stage=stage.name)
        _touch(journey_map)
    return outcome


# ---------------------------------------------------------------------------------------------
# Pain points and opportunities


def _clean_severity(value):
    if isinstance(value, bool) or value not in PainPoint.Severity.values:
        raise JourneyError(_("The severity is a whole number from 1 to 4."), field="severity")
    return value


def _check_touchpoint_on_map(touchpoint, journey_map):
    if touchpoint is not None and (touchpoint.stage is None or touchpoint.stage.journey_map_id != journey_map.pk):
        raise JourneyError(_("The touchpoint is not on this map."), field="touchpoint")


@transaction.atomic
def add_pain_point(journey_map, description, actor, severity=PainPoint.Severity.MEDIUM, touchpoint=None,
                   status=PainPoint.Status.OPEN):
    journey_map = _lock(journey_map)
    _check_touchpoint_on_map(touchpoint, journey_map)
    description = (description or "").strip()
    if not description:
        raise JourneyError(_("A description is required."), field="description")
    if status not in PainPoint.Status.values:
        raise JourneyError(_("Unknown status."), field="status")
    pain_point = PainPoint.objects.create(
        organization_id=journey_map.organization_id, journey_map=journey_map, touchpoint=touchpoint,
        description=description, severity=_clean_severity(severity), status=status,
    )
    log_activity(journey_map, actor, Action.PAIN_POINT_ADDED, description[:120], severity=pain_point.severity,
         touchpoint=touchpoint.name if touchpoint else None)
    _touch(journey_map)
    return pain_point


@transaction.atomic
def update_pain_point(pain_point, actor, *, version: int | None = None, **fields):
    journey_map = _lock(pain_point.journey_map)
    pain_point.refresh_from_db()
    lock_version(pain_point, version)
    if "severity" in fields:
        _clean_severity(fields["severity"])
    if "status" in fields and fields["status"] not in PainPoint.Status.values:
        raise JourneyError(_("Unknown status."), field="status")
    if "touchpoint" in fields:
        _check_touchpoint_on_map(fields["touchpoint"], journey_map)
    if "description" in fields and not (fields["description"] or "").strip():
        raise JourneyError(_("A description is required."), field="description")
    changes = {}
    for key in ("description", "severity", "status", "touchpoint"):
        if key in fields and getattr(pain_point, key) != fields[key]:
            changes[key] = [_plain(getattr(pain_point, key)), _plain(fields[key])]
            setattr(pain_point, key, fields[key])
    if changes:
        pain_point.save()
        log_activity(journey_map, actor, Action.PAIN_POINT_UPDATED, pain_point.description[:120], changes=changes)
        _touch(journey_map)
    return pain_point


@transaction.atomic
def delete_pain_point(pain_point, actor):
    journey_map = _lock(pain_point.journey_map)
    log_activity(journey_map, actor, Action.PAIN_POINT_DELETED, pain_point.description[:120])
    pain_point.delete()
    _touch(journey_map)


def _clean_impact(value):
    if value not in Opportunity.Impact.values:
        raise JourneyError(_("The expected impact is low, medium or high."), field="impact")
    return value


@transaction.atomic
def add_opportunity(journey_map, idea, actor, impact=Opportunity.Impact.MEDIUM, pain_point=None):
    journey_map = _lock(journey_map)
    if pain_point is not None and pain_point.journey_map_id != journey_map.pk:
        raise JourneyError(_("The pain point is on another map."), field="pain_point")
    idea = (idea or "").strip()
    if not idea:
        raise JourneyError(_("An idea is required."), field="idea")
    opportunity = Opportunity.objects.create(
        organization_id=journey_map.organization_id, journey_map=journey_map, idea=idea,
        impact=_clean_impact(impact), pain_point=pain_point,
    )
    log_activity(journey_map, actor, Action.OPPORTUNITY_ADDED, idea[:120], impact=opportunity.impact)
    _touch(journey_map)
    return opportunity


@transaction.atomic
def update_opportunity(opportunity, actor, *, version: int | None = None, **fields):
    journey_map = _lock(opportunity.journey_map)
    opportunity.refresh_from_db()
    lock_version(opportunity, version)
    if "impact" in fields:
        _clean_impact(fields["impact"])
    pain_point = fields.get("pain_point")
    if pain_point is not None and pain_point.journey_map_id != journey_map.pk:
        raise JourneyError(_("The pain point is on another map."), field="pain_point")
    if "idea" in fields and not (fields["idea"] or "").strip():
        raise JourneyError(_("An idea is required."), field="idea")
    changes = {}
    for key in ("idea", "impact", "pain_point"):
        if key in fields and getattr(opportunity, key) != fields[key]:
            changes[key] = [_plain(getattr(opportunity, key)), _plain(fields[key])]
            setattr(opportunity, key, fields[key])
    if changes:
        opportunity.save()
        log_activity(journey_map, actor, Action.OPPORTUNITY_UPDATED, opportunity.idea[:120], changes=changes)
        _touch(journey_map)
    return opportunity


@transaction.atomic
def delete_opportunity(opportunity, actor):
    journey_map = _lock(opportunity.journey_map)
    log_activity(journey_map, actor, Action.OPPORTUNITY_DELETED, opportunity.idea[:120])
    opportunity.delete()
    _touch(journey_map)


def channel_by_name(organization, name, kind=Channel.Kind.WEB):
    """The organization's channel called `name`, created with `kind` when there is none."""
    channel, _created = Channel.objects.get_or_create(organization=organization, name=name, defaults={"kind": kind})
    return channel


def channel_in_use(channel) -> bool:
    """Whether anything names the channel: touchpoints, survey links and answers (protected), but
    also routing and close-loop rules and goals of higher apps, which a deletion would silently
    remove or widen. Asked through the relations, so this app imports none of them."""
    # Through each relation's own field: hidden ones (related_name="+") have no accessor, and
    # `related_objects` leaves them out.
    relations = [f for f in channel._meta.get_fields(include_hidden=True) if f.auto_created and not f.concrete
                 and f.is_relation and not f.related_model._meta.auto_created]
    return any(relation.related_model._base_manager.filter(**{relation.field.name: channel}).exists()
               for relation in relations)


@transaction.atomic
def delete_channel(channel) -> bool:
    """Delete a channel nothing uses; returns whether it was deleted."""
    if channel_in_use(channel):
        return False
    channel.delete()
    return True
