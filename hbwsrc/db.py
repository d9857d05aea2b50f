"""The database cursor: parameters bound by the server, so that psycopg can prepare what a connection repeats.

A page runs the same few queries for every user, with different parameters. Bound by the server (rather than
interpolated by the client, Django's default), a query that a connection has run ``prepare_threshold`` times is
prepared: PostgreSQL parses and plans it once for the connection, then only executes it (planning is 1-3 ms of a
record page's queries). Settings turn this on with DATABASE_PREPARE_THRESHOLD.

Not every query gains: after five executions PostgreSQL may keep a generic plan, made for any value of the
parameters, and where the best plan depends on the value matched (a LIKE pattern: a searched text, a whole
region's path prefix; a name's grams) a generic plan guesses wrong. A county office's search by a two-character
name took 21 ms instead of 2 ms. Such queries are not prepared: they are planned for their values every time,
except inside ``one_plan_for_any_value()``: a row read by its unique key (an office's page, scoped to a region
office's whole region by its path prefix) has one best plan, the key's index, whatever the prefix. Subtrees
beneath a region's office are matched by a range that is prepared (institutions.models.Subtree).

The extended protocol that server binding uses takes one statement at a time, and django-pghistory writes its
context (who changed what, on a write) as a ``SELECT set_config(...)`` put before the write in the same string:
that statement is sent on its own first, in the same transaction (a write outside Django's transactions is given
one: the context is local to a transaction, and in one string both ran in one). Only the history triggers of
tracked tables read the context: a write to any other table, such as the audit trail's on every eligibility
lookup, is sent without it, one round trip instead of two. django-pghistory's history views also quote values into
SQL with ``mogrify``, which only a client-binding cursor has: it is lent one.
"""

import functools
import re
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models import Lookup
from django.http import Http404
from django.shortcuts import get_object_or_404
from psycopg import ClientCursor

PGHISTORY_CONTEXT = (
    "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true); "
)

PLANNED_FOR_ITS_VALUES = re.compile(r" LIKE | @> ")
_WRITTEN_TABLE = re.compile(r'(?:INSERT INTO|UPDATE|DELETE FROM) "(\w+)"')
_one_plan = ContextVar("one_plan_for_any_value", default=False)


@contextmanager
def one_plan_for_any_value():
    """Let the queries run inside be prepared even where PLANNED_FOR_ITS_VALUES would plan them for their values:
    for reads whose best plan does not depend on them (a row by its unique key, whatever scope filters it)."""
    token = _one_plan.set(True)
    try:
        yield
    finally:
        _one_plan.reset(token)


def get_or_404(queryset, **unique):
    """``get_object_or_404`` for a row named by a unique key (public_id, pk) in a scoped queryset: its query is
    prepared like any other, not planned for the scope's path prefixes on every request (one_plan_for_any_value).
    A county office's record page, when its subtree was matched by a prefix: 10.8 -> 6.8 ms in-process
    (bench/README.md, stop 20)."""
    with one_plan_for_any_value():
        return get_object_or_404(queryset, **unique)


def scoped_row_or_404(read, scope, **unique):
    """The row named by a unique key among those ``scope`` sees, read by ``read`` (an
    ``hbwsrc.composed.ComposedPer`` whose queryset the scope filters, composed once per scope: ``Scope.seen()``),
    or 404. Prepared like ``get_or_404``. The record page's read by the ORM: 1.5 ms of its 5.2 (bench/README.md,
    stop 28)."""
    with one_plan_for_any_value():
        rows = read(scope.seen(), scope, **unique)
    if not rows:
        raise Http404
    [row] = rows
    return row


class AnyOf(Lookup):
    """``AnyOf(F("column"), values)``: ``column = ANY(%s::type[])``, the values as one array parameter. ``IN`` takes
    a parameter a value, and each number of values is another statement to prepare; this is one."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{self.lhs.output_field.cast_db_type(connection)}[])", [*params, self.rhs]


@functools.cache
def _tracked_tables() -> frozenset[str]:
    """The tables with django-pghistory's triggers, the only readers of its context."""
    tracked = (getattr(model, "pgh_tracked_model", None) for model in apps.get_models())
    return frozenset(model._meta.db_table for model in tracked if model is not None)


class PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, **kwargs):
        if not isinstance(query, str):
            return super().execute(query, params, **kwargs)
        context = None
        if query.startswith(PGHISTORY_CONTEXT):
            context, query, params = params[:2], query[len(PGHISTORY_CONTEXT) :], params[2:]
            written = _WRITTEN_TABLE.match(query)
            if written is not None and written[1] not in _tracked_tables():
                context = None
        if PLANNED_FOR_ITS_VALUES.search(query) and not _one_plan.get():
            kwargs.setdefault("prepare", False)
        if context is None:
            return super().execute(query, params, **kwargs)
        if self.connection.autocommit:  # outside Django's transactions
            with self.connection.transaction():
                super().execute(PGHISTORY_CONTEXT.rstrip("; "), context, prepare=False)
                return super().execute(query, params, **kwargs)
        super().execute(PGHISTORY_CONTEXT.rstrip("; "), context, prepare=False)
        return super().execute(query, params, **kwargs)

    def mogrify(self, query, params=None):
        return ClientCursor(self.connection).mogrify(query, params)
