"""The database cursor: parameters bound by the server, so that psycopg can prepare what a connection repeats.

A page runs the same few queries for every user, with different parameters. Bound by the server (rather than
interpolated by the client, Django's default), a query that a connection has run ``prepare_threshold`` times is
prepared: PostgreSQL parses and plans it once for the connection, then only executes it (planning is 1-3 ms of a
record page's queries). Settings turn this on with DATABASE_PREPARE_THRESHOLD.

Not every query gains: after five executions PostgreSQL may keep a generic plan, made for any value of the
parameters, and where the best plan depends on the value matched (a LIKE pattern: a subtree's path prefix or a
searched text; a name's grams) a generic plan guesses wrong. A county office's search by a two-character name took
21 ms instead of 2 ms. Such queries are not prepared: they are planned for their values every time.

The extended protocol that server binding uses takes one statement at a time, and django-pghistory writes its
context (who changed what, on a write) as a ``SELECT set_config(...)`` put before the write in the same string:
that statement is sent on its own first, in the same transaction. django-pghistory's history views also quote
values into SQL with ``mogrify``, which only a client-binding cursor has: it is lent one.
"""

import re

from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg import ClientCursor

PGHISTORY_CONTEXT = (
    "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true); "
)

PLANNED_FOR_ITS_VALUES = re.compile(r" LIKE | @> ")


class PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, **kwargs):
        if isinstance(query, str):
            if query.startswith(PGHISTORY_CONTEXT):
                super().execute(PGHISTORY_CONTEXT.rstrip("; "), params[:2], prepare=False)
                query, params = query[len(PGHISTORY_CONTEXT) :], params[2:]
            if PLANNED_FOR_ITS_VALUES.search(query):
                kwargs.setdefault("prepare", False)
        return super().execute(query, params, **kwargs)

    def mogrify(self, query, params=None):
        return ClientCursor(self.connection).mogrify(query, params)
