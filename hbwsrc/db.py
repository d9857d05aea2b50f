"""The database cursor: parameters bound by the server, so that psycopg can prepare what a connection repeats.

A page runs the same few queries for every user, with different parameters. Bound by the server (rather than
interpolated by the client, Django's default), a query that a connection has run ``prepare_threshold`` times is
prepared: PostgreSQL parses and plans it once for the connection, then only executes it (planning is 1-3 ms of a
record page's queries). Settings turn this on with DATABASE_PREPARE_THRESHOLD.

The extended protocol that server binding uses takes one statement at a time, and django-pghistory writes its
context (who changed what, on a write) as a ``SELECT set_config(...)`` put before the write in the same string:
that statement is sent on its own first, in the same transaction. django-pghistory's history views also quote
values into SQL with ``mogrify``, which only a client-binding cursor has: it is lent one.
"""

from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg import ClientCursor

PGHISTORY_CONTEXT = (
    "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true); "
)


class PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, **kwargs):
        if isinstance(query, str) and query.startswith(PGHISTORY_CONTEXT):
            super().execute(PGHISTORY_CONTEXT.rstrip("; "), params[:2], prepare=False)
            query, params = query[len(PGHISTORY_CONTEXT) :], params[2:]
        return super().execute(query, params, **kwargs)

    def mogrify(self, query, params=None):
        return ClientCursor(self.connection).mogrify(query, params)
