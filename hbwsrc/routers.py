"""Read replicas: the reads of views marked ``@read_only`` go to the "replica" database, when one is configured.

The decision is per view, not per query: a request that writes anything reads from the primary throughout, so it
never acts on a replica's slightly older copy, and ``select_for_update`` and transactions stay on the primary.
Only views that write nothing and may show data a moment old (lists, the dashboard) are marked. Middleware (the
session, the account, the session registry) runs outside the view and reads the primary. A template rendered after
the view returned (TemplateResponse) would read the primary too; the marked views render inside.

Without DATABASE_REPLICA_URL there is no "replica" alias and everything uses the primary.
"""

import contextvars
from functools import wraps

from django.db import connections

REPLICA = "replica"
_reading_replica = contextvars.ContextVar("reading_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def read_only(view):
    """Mark ``view`` as writing nothing: its reads may go to the replica."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        token = _reading_replica.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _reading_replica.reset(token)

    wrapper.read_only = True
    return wrapper


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_replica.get() and replica_configured():
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
