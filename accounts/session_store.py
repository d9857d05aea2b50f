"""Django's database session store, reading with the session what every request asks next.

Every authenticated request needs the session's registry row (accounts.sessions: the middleware checks it right
after the session is loaded), its account with the account's node and region (AccountBackend.get_user), the
account's grants (institutions.scope.scope_for) and, where the session passed the second factor, the device it
passed with (accounts.middleware.OTPMiddleware). All are read in the session's query, joined by the registry's
``user_id``, which login wrote with the account the session belongs to: one indexed query instead of four on every
page. The account, the grants and the devices are only offered: get_user takes the account only for the id the
session names (reading it itself otherwise), Django still checks the session's hash against it, and django-otp
still checks that the device is the account's and confirmed.
"""

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from accounts.backends import account_from_row, account_sql, keep_read_with_session
from accounts.models import UserSession
from accounts.sessions import key_hash
from accounts.two_factor import device_sql, keep_devices
from institutions.scope import grant_sql, keep_grant_rows


@functools.cache
def _load_sql(using: str) -> str:
    columns, joins, _layout = account_sql(using)
    return f"""
SELECT s.session_data, r.id, r.user_id, r.created_at, r.last_seen,
    (SELECT json_agg(json_build_array(g.kind, g.node, g.codename))
     FROM ({grant_sql(using, "r.user_id")}) AS g (kind, node, codename)),
    (SELECT json_agg(json_build_array(d.id, d.row)) FROM ({device_sql(using, "r.user_id")}) AS d (id, row)),
    {columns}
FROM django_session s LEFT JOIN accounts_usersession r ON r.key_hash = %s
    LEFT JOIN accounts_user u ON u.id = r.user_id {joins}
WHERE s.session_key = %s AND s.expire_date > %s
"""


class SessionStore(db.SessionStore):
    # (session key, its registry row or None) as read by the last load; accounts.sessions.current uses it.
    registry_read = None

    def _get_session_from_db(self):
        key = self.session_key
        digest = key_hash(key)
        using = router.db_for_read(self.model)
        with connections[using].cursor() as cursor:
            cursor.execute(_load_sql(using), [digest, key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            keep_read_with_session(None, None)
            self._session_key = None
            return None
        data, registry_id, user_id, created_at, last_seen, grants, devices, *account_values = row
        registry = account = None
        if registry_id is not None:
            registry = UserSession(
                id=registry_id, user_id=user_id, key_hash=digest, created_at=created_at, last_seen=last_seen
            )
            account = account_from_row(account_values, using)
            if account is not None:
                keep_grant_rows(account, [tuple(grant) for grant in grants or ()])
                keep_devices(account, devices or ())
        keep_read_with_session(user_id, account)
        self.registry_read = (key, registry)
        return self.model(session_key=key, session_data=data)
