import functools
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

from institutions.models import Institution, Office, Region
from trainees.models import ExamYear, keep_current_exam_year


class AccountBackend(ModelBackend):
    """Django's backend, refusing also an issued or reset one-time password that has expired.

    The login form then shows its usual message, the same as for a wrong password or an unknown username. A
    session opened with such a password before it expired ends too: ``get_user`` asks the same question.
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "one_time_password_expired", False)

    def get_user(self, user_id):
        read = _read_with_session.get()
        _read_with_session.set(None)  # taken once
        user = read[1] if read is not None and read[0] == user_id else load_account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


# (account id, the account or None) as the request's session read it (accounts.session_store), for get_user to take
# once instead of reading it again. Set, or cleared, on every session load: never a previous request's.
_read_with_session = ContextVar("account_read_with_session", default=None)


def keep_read_with_session(user_id, account) -> None:
    _read_with_session.set(None if user_id is None else (user_id, account))


# Joins a region to its current exam year (at most one: examyear_one_current), rather than by a foreign key.
CURRENT_YEAR = "current exam year"

# The account and what every request needs of it: its office or institution (the layout names it, the scope starts
# from it), that node's region as select_related("office__region", "institution__region") would read them, and the
# region's current exam year (the filing pages, the roster, the dashboard: trainees.models.current_exam_year).
# (alias, model, the joined model's alias, and the foreign key to follow from it or CURRENT_YEAR); the account first.
ACCOUNT_JOINS = (
    ("u", get_user_model(), None, None),
    ("o", Office, "u", "office"),
    ("o_r", Region, "o", "region"),
    ("o_y", ExamYear, "o_r", CURRENT_YEAR),
    ("i", Institution, "u", "institution"),
    ("i_r", Region, "i", "region"),
    ("i_y", ExamYear, "i_r", CURRENT_YEAR),
)


@functools.cache
def account_sql(using: str) -> tuple[str, str, list]:
    """The select list for ACCOUNT_JOINS and the joins from the account (alias ``u``) to the others; and, for each
    model, its fields and their database converters (``account_from_row``).

    Written once per process: compiled by the ORM on each request, the query cost 0.5 ms of Python, three
    times its execution and as much as a tenth of a simple page (bench/README.md, stop 19). The session's own query
    reads the account too (accounts.session_store).
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    columns, joins, layout = [], [], []
    models_by_alias = {alias: model for alias, model, _parent, _link in ACCOUNT_JOINS}
    for alias, model, parent_alias, link in ACCOUNT_JOINS:
        fields = model._meta.concrete_fields
        columns += [f"{alias}.{quote(field.column)}" for field in fields]
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            for converter in connection.ops.get_db_converters(column) + field.get_db_converters(connection):
                converters.append((index, converter, column))
        layout.append((model, len(fields), fields.index(model._meta.pk), converters))
        if link == CURRENT_YEAR:
            region, current = (quote(model._meta.get_field(name).column) for name in ("region", "is_current"))
            joins.append(
                f"LEFT JOIN {quote(model._meta.db_table)} {alias} ON {alias}.{region} = "
                f"{parent_alias}.{quote(models_by_alias[parent_alias]._meta.pk.column)} AND {alias}.{current}"
            )
        elif parent_alias is not None:
            column = models_by_alias[parent_alias]._meta.get_field(link).column
            joins.append(
                f"LEFT JOIN {quote(model._meta.db_table)} {alias} "
                f"ON {alias}.{quote(model._meta.pk.column)} = {parent_alias}.{quote(column)}"
            )
    return ", ".join(columns), " ".join(joins), layout


def load_account(user_id):
    """The account ``user_id`` with its node and the node's region attached, or None."""
    user_model = get_user_model()
    using = router.db_for_read(user_model)
    columns, joins, _layout = account_sql(using)
    quote = connections[using].ops.quote_name
    table, pk = quote(user_model._meta.db_table), quote(user_model._meta.pk.column)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} u {joins} WHERE u.{pk} = %s", [user_id])
        row = cursor.fetchone()
    return None if row is None else account_from_row(row, using)


def account_from_row(values, using):
    """The account (or None) from the values of ``account_sql``'s columns, its node and region attached."""
    connection = connections[using]
    loaded, start = {}, 0
    for (alias, _model, parent_alias, link), (model, width, pk_index, converters) in zip(
        ACCOUNT_JOINS, account_sql(using)[2], strict=True
    ):
        fields = list(values[start : start + width])
        start += width
        for index, converter, expression in converters:
            fields[index] = converter(fields[index], expression, connection)
        instance = None if fields[pk_index] is None else model.from_db(using, None, fields)
        loaded[alias] = instance
        parent = loaded.get(parent_alias)
        if parent is None:
            continue
        if link == CURRENT_YEAR:
            keep_current_exam_year(parent, instance)
        else:
            parent._meta.get_field(link).set_cached_value(parent, instance)
    return loaded[ACCOUNT_JOINS[0][0]]


def lockout_username(request, credentials=None):
    """The username django-axes counts failed logins under: as typed, cut to the longest username an account can
    have. Django's login form does not limit its length, and axes' table holds 255 characters: a longer one made
    the failure's INSERT fail (a 500 instead of the login page's message)."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get("username")
    if not isinstance(username, str):
        return username
    return username[: get_user_model()._meta.get_field("username").max_length]
