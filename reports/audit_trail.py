"""Reading the audit trail of an exam region: what the audit trail page (reports/audit_views.py) and the admin's
object histories (hbwsrc/admin.py) show.

Two sources answer "who changed what, when, from what to what":

- ``accounts.AuditEvent``: every application action (logins and failed logins, account actions, roster steps,
  exports, full ID views, verifications, lookups...), written by ``accounts.audit.record``;
- the django-pghistory event tables of the tracked models (institutions, trainees, probation records): one row per
  insert or update, whatever path wrote it, with the account of the request in its context. Old and new values
  are read by comparing each event with the previous event of the same object.

Neither can be changed through the application: AuditEvent refuses UPDATE and DELETE by trigger, and no view or
admin offers to change or revert an event.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent, User
from hbwsrc.search import text_contains
from institutions.models import Institution
from reports.models import Roster
from trainees.models import Person, ProbationRecord, mask_id_number

#: The tracked models whose changes the trail shows, by the key used in URLs and forms.
TRACKED = {"institution": Institution, "person": Person, "record": ProbationRecord}
HIDDEN_FIELDS = {"id", "public_id", "created_at", "updated_at", "path", "pgh_obj", "pgh_context"}
MASKED_FIELDS = {"id_number"}  # shown masked: the trail is not a way round the audited full-ID view


def event_model(tracked):
    """The django-pghistory event model of a tracked model (e.g. trainees.ProbationRecordEvent)."""
    return next(m for m in apps.get_models() if getattr(m, "pgh_tracked_model", None) is tracked)


# --- what a region's auditor may read ---------------------------------------------------------------------------


def audit_events_in_region(region_id) -> Q:
    """AuditEvent rows that belong to a region: recorded with it, or (rows written without one: lookups, full ID
    views, roster steps, failed logins, public verifications) by one of its accounts, as a typed username of one of
    its accounts, or about one of its rosters."""
    usernames = User.objects.filter(Q(office__region_id=region_id) | Q(institution__region_id=region_id))
    rosters = Roster.objects.filter(institution__region_id=region_id).annotate(text_id=Cast("public_id", CharField()))
    return Q(region_id=region_id) | Q(region__isnull=True) & (
        Q(actor__office__region_id=region_id)
        | Q(actor__institution__region_id=region_id)
        | Q(actor__isnull=True, actor_username__in=usernames.values("username"))
        | Q(target_type="roster", target_id__in=rosters.values("text_id"))
    )


def data_events(key: str, region_id=None):
    """The events of one tracked model, of objects in the region (all regions when ``region_id`` is None)."""
    tracked = TRACKED[key]
    events = event_model(tracked).objects.all()
    if region_id is None:
        return events
    if tracked is Institution:
        return events.filter(region_id=region_id)
    if tracked is ProbationRecord:
        return events.filter(institution__region_id=region_id)
    in_region = ProbationRecord.objects.filter(person=OuterRef("pgh_obj_id"), region_id=region_id)
    return events.filter(Exists(in_region))


# --- old and new values ------------------------------------------------------------------------------------------


@dataclass
class DataChange:
    """One insert or update of a tracked object, as people read it."""

    at: datetime.datetime
    actor: User | None
    action: str
    model: object
    object_label: str
    object_id: str
    changes: list = field(default_factory=list)  # (field label, old, new)
    event: object = None

    @property
    def model_name(self) -> str:
        return self.model._meta.verbose_name


def _fields(event_class):
    return [
        f for f in event_class._meta.concrete_fields if not f.name.startswith("pgh_") and f.name not in HIDDEN_FIELDS
    ]


def _raw(event, model_field):
    value = model_field.value_from_object(event)
    return list(value) if isinstance(value, (list, tuple)) else value


def _display(model_field, value, related):
    """A value as people read it: names for foreign keys, labels for choices, masked ID numbers."""
    if value is None or value == "" or value == []:
        return None
    if model_field.is_relation:
        return str(related.get((model_field.related_model, value), value))
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.name in MASKED_FIELDS:
        return mask_id_number(value)
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _related_objects(fields, events) -> dict:
    """{(model, pk): object} for every foreign key value of ``events``, one query per related model."""
    wanted = {}
    for model_field in fields:
        if model_field.is_relation:
            ids = {getattr(event, model_field.attname) for event in events} - {None}
            wanted.setdefault(model_field.related_model, set()).update(ids)
    return {(model, pk): obj for model, ids in wanted.items() if ids for pk, obj in model.objects.in_bulk(ids).items()}


def _object_label(tracked, event, related) -> str:
    if tracked is ProbationRecord:
        person = related.get((Person, event.person_id), "")
        institution = related.get((Institution, event.institution_id), "")
        return f"{person} · {institution}"
    if tracked is Person:
        return f"{event.name} {mask_id_number(event.id_number)}"
    return event.name


def describe(key: str, events) -> list[DataChange]:
    """Readable changes of ``events`` (of the tracked model ``key``), in the order given.

    Each event is compared with the previous event of the same object (one query for all of them); the first
    event of an object lists every value it was created with.
    """
    events = list(events)
    if not events:
        return []
    tracked = TRACKED[key]
    event_class = type(events[0])
    history = event_class.objects.filter(
        pgh_obj_id__in={e.pgh_obj_id for e in events}, pgh_id__lt=max(e.pgh_id for e in events)
    ).order_by("pgh_obj_id", "pgh_id")
    by_object = {}
    for earlier in history:
        by_object.setdefault(earlier.pgh_obj_id, []).append(earlier)
    fields = _fields(event_class)
    previous_of = {}
    for event in events:
        before = [e for e in by_object.get(event.pgh_obj_id, []) if e.pgh_id < event.pgh_id]
        previous_of[event.pgh_id] = before[-1] if before else None
    related = _related_objects(fields, [*events, *filter(None, previous_of.values())])
    actors = User.objects.in_bulk({u for e in events if (u := _actor_id(e))})
    described = []
    for event in events:
        previous = previous_of[event.pgh_id]
        changes = []
        for model_field in fields:
            new = _raw(event, model_field)
            old = _raw(previous, model_field) if previous is not None else None
            if previous is None and new in (None, "", []) or previous is not None and old == new:
                continue
            label = tracked._meta.get_field(model_field.name).verbose_name
            changes.append((label, _display(model_field, old, related), _display(model_field, new, related)))
        described.append(
            DataChange(
                at=event.pgh_created_at,
                actor=actors.get(_actor_id(event)),
                action=_("created") if previous is None else _("changed"),
                model=tracked,
                object_label=_object_label(tracked, event, related),
                object_id=str(event.public_id),
                changes=changes,
                event=event,
            )
        )
    return described


def _actor_id(event):
    context = event.pgh_context
    return (context.metadata or {}).get("user") if context is not None else None


def data_changes(keys, region_id=None, *, actor_id=None, obj="", since=None, until=None):
    """The events of the tracked models ``keys`` as one list, newest first: (time, event id, key) rows, filtered by
    the acting account, by object (public id, or a name, USCC or ID number as the event recorded it) and by date.
    Page it, then ``describe_rows`` the page."""
    branches = []
    for key in keys:
        events = data_events(key, region_id)
        if actor_id is not None:
            events = events.filter(pgh_context__metadata__user=actor_id)
        if obj:
            events = events.filter(_object_filter(key, obj))
        if since:
            events = events.filter(pgh_created_at__gte=day_start(since))
        if until:
            events = events.filter(pgh_created_at__lt=day_start(until, next_day=True))
        branches.append(events.order_by().annotate(key=Value(key)).values_list("pgh_created_at", "pgh_id", "key"))
    rows = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    return rows.order_by("-pgh_created_at", "-pgh_id")


def day_start(day: datetime.date, *, next_day=False) -> datetime.datetime:
    """Local midnight at the start of ``day`` (of the day after, for an inclusive end date)."""
    day = day + datetime.timedelta(days=1) if next_day else day
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def describe_rows(rows) -> list[DataChange]:
    """The DataChange of each (time, event id, key) row, in the same order (a few queries per tracked model)."""
    wanted = {}
    for _at, pgh_id, key in rows:
        wanted.setdefault(key, []).append(pgh_id)
    described = {}
    for key, ids in wanted.items():
        events = event_model(TRACKED[key]).objects.filter(pgh_id__in=ids).select_related("pgh_context")
        described.update({(key, change.event.pgh_id): change for change in describe(key, events)})
    return [described[(key, pgh_id)] for _at, pgh_id, key in rows]


def _object_filter(key: str, text: str) -> Q:
    text = text.strip()
    try:
        return Q(public_id=uuid.UUID(text))
    except ValueError:
        pass
    if key == "institution":
        return Q(name__icontains=text) | Q(uscc=text.upper())
    if key == "person":
        return text_contains("name", text) | Q(id_number=text.upper())
    return Q(person__name__icontains=text) | Q(person__id_number=text.upper()) | Q(institution__name__icontains=text)


# --- one object's whole history ----------------------------------------------------------------------------------


def object_history(obj) -> tuple[list[DataChange], list[AuditEvent]]:
    """Everything recorded about ``obj``: its data changes (for tracked models; a record's include its trainee's)
    and the audit events that name it, oldest first."""
    changes = []
    for key, tracked in TRACKED.items():
        if isinstance(obj, tracked):
            changes += describe(key, event_model(tracked).objects.filter(pgh_obj_id=obj.pk).order_by("pgh_id"))
    if isinstance(obj, ProbationRecord):
        person_events = event_model(Person).objects.filter(pgh_obj_id=obj.person_id).order_by("pgh_id")
        changes += describe("person", person_events)
    changes.sort(key=lambda change: (change.at, change.event.pgh_id))
    target_id = str(getattr(obj, "public_id", obj.pk))
    events = AuditEvent.objects.filter(target_type=obj._meta.model_name, target_id=target_id).order_by("at", "pk")
    return changes, list(events.select_related("actor"))


def readable_audit_changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    """An audit event's ``changes`` as (name, old, new) rows: ``[old, new]`` pairs stay pairs, other details show as
    a new value."""
    rows = []
    for name, value in (event.changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            rows.append((name, value[0], value[1]))
        else:
            rows.append((name, None, value))
    return rows
