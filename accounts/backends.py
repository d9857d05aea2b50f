import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

from institutions.models import Institution, Office, Region


class AccountBackend(ModelBackend):
    """Django's backend, refusing also an issued or reset one-time password that has expired.

    The login form then shows its usual message, the same as for a wrong password or an unknown username. A
    session opened with such a password before it expired ends too: ``get_user`` asks the same question.
    """

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "one_time_password_expired", False)

    def get_user(self, user_id):
        user = load_account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


# The account and what every request needs of it: its office or institution (the layout names it, the scope starts
# from it) and that node's region (the current exam year), as select_related("office__region",
# "institution__region") would read them. (alias, model, the joined model's alias and foreign key); the account
# first.
ACCOUNT_JOINS = (
    ("u", get_user_model(), None, None),
    ("o", Office, "u", "office"),
    ("o_r", Region, "o", "region"),
    ("i", Institution, "u", "institution"),
    ("i_r", Region, "i", "region"),
)


@functools.cache
def _account_query(using: str):
    """The SQL for ACCOUNT_JOINS and, for each model, its fields and their database converters.

    Written once per process: compiled by the ORM on each request, the query cost 0.5 ms of Python, three
    times its execution and as much as a tenth of a simple page (bench/README.md, stop 19).
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
        if parent_alias is None:
            joins.append(f"{quote(model._meta.db_table)} {alias}")
        else:
            column = models_by_alias[parent_alias]._meta.get_field(link).column
            joins.append(
                f"LEFT JOIN {quote(model._meta.db_table)} {alias} "
                f"ON {alias}.{quote(model._meta.pk.column)} = {parent_alias}.{quote(column)}"
            )
    account_alias, account_model, _parent, _link = ACCOUNT_JOINS[0]
    sql = (
        f"SELECT {', '.join(columns)} FROM {' '.join(joins)} "
        f"WHERE {account_alias}.{quote(account_model._meta.pk.column)} = %s"
    )
    return sql, layout


def load_account(user_id):
    """The account ``user_id`` with its node and the node's region attached, or None."""
    user_model = get_user_model()
    using = router.db_for_read(user_model)
    sql, layout = _account_query(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    loaded, start = {}, 0
    for (alias, _model, parent_alias, link), (model, width, pk_index, converters) in zip(
        ACCOUNT_JOINS, layout, strict=True
    ):
        values = list(row[start : start + width])
        start += width
        for index, converter, expression in converters:
            values[index] = converter(values[index], expression, connection)
        instance = None if values[pk_index] is None else model.from_db(using, None, values)
        loaded[alias] = instance
        if parent_alias is not None and loaded[parent_alias] is not None:
            loaded[parent_alias]._meta.get_field(link).set_cached_value(loaded[parent_alias], instance)
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
