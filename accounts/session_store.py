"""Django's database session store, reading the session's registry row (accounts.sessions) in the same query.

Every authenticated request needs both: the middleware checks the registry right after the session is loaded.
One indexed join replaces two queries on every page.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from accounts.models import UserSession
from accounts.sessions import key_hash

LOAD = """
SELECT s.session_data, r.id, r.user_id, r.created_at, r.last_seen
FROM django_session s LEFT JOIN accounts_usersession r ON r.key_hash = %s
WHERE s.session_key = %s AND s.expire_date > %s
"""


class SessionStore(db.SessionStore):
    # (session key, its registry row or None) as read by the last load; accounts.sessions.current uses it.
    registry_read = None

    def _get_session_from_db(self):
        key = self.session_key
        digest = key_hash(key)
        with connections[router.db_for_read(self.model)].cursor() as cursor:
            cursor.execute(LOAD, [digest, key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        data, registry_id, user_id, created_at, last_seen = row
        registry = None
        if registry_id is not None:
            registry = UserSession(
                id=registry_id, user_id=user_id, key_hash=digest, created_at=created_at, last_seen=last_seen
            )
        self.registry_read = (key, registry)
        return self.model(session_key=key, session_data=data)
