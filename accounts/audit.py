"""The audit trail: one function that every action calls inside its own transaction."""

from accounts.models import AuditEvent
from hbwsrc import ratelimit


def _region_id(target):
    for candidate in (target, getattr(target, "node", None)):
        region_id = getattr(candidate, "region_id", None)
        if region_id:
            return region_id
    return None


def client_address(request) -> str | None:
    if request is None:
        return None
    return ratelimit.client_ip(request) or None


def record(kind, *, actor=None, target=None, changes=None, request=None, actor_username="") -> AuditEvent:
    """Append an audit event. ``changes`` maps field names to ``[old, new]`` (or carries other details)."""
    return AuditEvent.objects.create(
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        actor_username=actor.get_username() if actor is not None else actor_username,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(getattr(target, "public_id", target.pk)) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        region_id=_region_id(target),
        changes=changes or {},
        ip_address=client_address(request),
    )


def diff(instance, before: dict, fields) -> dict:
    """Field-by-field ``{name: [old, new]}`` of what changed on ``instance`` since ``before`` was taken."""
    changes = {}
    for name in fields:
        old, new = before.get(name), getattr(instance, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
    return changes


def snapshot(instance, fields) -> dict:
    return {name: getattr(instance, name) for name in fields}


def _jsonable(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
