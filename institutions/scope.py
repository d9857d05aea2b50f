"""What a user may see and do: the single place that turns an account's grants into querysets and checks.

Accounts hold django-guardian permissions on hierarchy nodes only (their own office or institution). A
permission held on an office applies to that office and everything beneath it. The grants are read once per
request (with the session, accounts.session_store, or else in one small query) and cached on the user object, so
every list, detail and check after that costs nothing extra.
"""

from dataclasses import dataclass, field
from functools import cache, reduce
from operator import or_

from django.contrib.auth.models import Permission
from django.db import connections, router
from django.db.models import Q

from institutions.models import (
    Institution,
    InstitutionUserObjectPermission,
    Office,
    OfficeUserObjectPermission,
)

VIEW_OFFICE = "view_office"
MANAGE_OFFICE = "manage_office"
MANAGE_ACCOUNTS = "manage_accounts"
VIEW_INSTITUTION = "view_institution"
CHANGE_INSTITUTION = "change_institution"
MANAGE_RECORDS = "manage_records"
MANAGE_STAFF = "manage_staff"

OFFICE_PERMISSIONS = (VIEW_OFFICE, MANAGE_OFFICE, MANAGE_ACCOUNTS)
INSTITUTION_PERMISSIONS = (VIEW_INSTITUTION, CHANGE_INSTITUTION, MANAGE_RECORDS, MANAGE_STAFF)


@dataclass
class Scope:
    """The grants of one account: {office: codenames} and {institution: codenames}."""

    offices_granted: dict[Office, set[str]] = field(default_factory=dict)
    institutions_granted: dict[Institution, set[str]] = field(default_factory=dict)

    # --- querysets -------------------------------------------------------------------------------------------

    def office_paths(self, perm: str = VIEW_OFFICE) -> list[str]:
        """The paths of the offices where ``perm`` is held: the account's offices are those beneath them."""
        return [office.path for office, perms in self.offices_granted.items() if perm in perms]

    def _path_filter(self, lookup: str, perm: str = VIEW_OFFICE) -> Q | None:
        paths = self.office_paths(perm)
        if not paths:
            return None
        return reduce(or_, (Q(**{f"{lookup}__subtree": path}) for path in paths))

    def offices(self, queryset=None, perm: str = VIEW_OFFICE):
        """Offices at or beneath the offices where ``perm`` is held."""
        queryset = Office.objects.all() if queryset is None else queryset
        condition = self._path_filter("path", perm)
        return queryset.filter(condition) if condition else queryset.none()

    def offices_above(self, office: Office) -> list[Office]:
        """The offices above ``office`` that the account sees (its breadcrumbs), from the top down: none above the
        account's own, and no query where there is none to show (an account's own office, the page most opened)."""
        paths = self.office_paths()
        shown, above = [], ""
        for part in office.path.split("/")[:-2]:  # "1/8/12/": the ids of the offices above 12
            above += f"{part}/"
            if any(above.startswith(path) for path in paths):
                shown.append(int(part))
        return list(Office.objects.filter(pk__in=shown).order_by("depth")) if shown else []

    def institutions(self, queryset=None):
        queryset = Institution.objects.all() if queryset is None else queryset
        return self.filter_by_institution(queryset, "", region="region")

    def filter_by_institution(self, queryset, prefix: str = "institution__", region: str | None = None):
        """Scope any queryset whose rows belong to an institution (``prefix`` leads to it).

        ``region`` names a field of the rows holding their institution's region (``ProbationRecord.region``, which
        the database keeps equal to it): a grant on a region office, whose jurisdiction is its whole region (one
        per region, every office of the region beneath it), is then that region, which PostgreSQL reads from the
        indexes that start with it instead of looking up the institution of each row (bench/EXPLAIN.md).
        """
        conditions = []
        for office, perms in self.offices_granted.items():
            if VIEW_OFFICE not in perms:
                continue
            if region and office.parent_id is None:
                conditions.append(Q(**{region: office.region_id}))
            else:
                conditions.append(Q(**{f"{prefix}path__subtree": office.path}))
        own = [inst.pk for inst, perms in self.institutions_granted.items() if VIEW_INSTITUTION in perms]
        if own:
            conditions.append(Q(**{f"{prefix}pk__in": own}))
        if not conditions:
            return queryset.none()
        return queryset.filter(reduce(or_, conditions))

    def seen(self) -> tuple:
        """What the account sees, as a value to name it by: the paths of the offices whose subtrees it sees and the
        ids of the institutions it sees beside them."""
        own = sorted(inst.pk for inst, perms in self.institutions_granted.items() if VIEW_INSTITUTION in perms)
        return tuple(sorted(self.office_paths())), tuple(own)

    def region_ids(self) -> set[int]:
        """The regions of everything the account sees (a subtree never leaves its region)."""
        return {office.region_id for office, perms in self.offices_granted.items() if VIEW_OFFICE in perms} | {
            inst.region_id for inst, perms in self.institutions_granted.items() if VIEW_INSTITUTION in perms
        }

    # --- checks ----------------------------------------------------------------------------------------------

    def has_office_perm(self, perm: str, office: Office, *, strictly_beneath: bool = False) -> bool:
        """``perm`` is held on ``office`` or on an office above it (strictly above when asked)."""
        for granted, perms in self.offices_granted.items():
            if perm in perms and office.path.startswith(granted.path):
                if not (strictly_beneath and office.pk == granted.pk):
                    return True
        return False

    def has_institution_perm(self, perm: str, institution: Institution) -> bool:
        return perm in self.institutions_granted.get(institution, set())

    def can_view_institution(self, institution: Institution) -> bool:
        return self.has_institution_perm(VIEW_INSTITUTION, institution) or any(
            VIEW_OFFICE in perms and institution.path.startswith(office.path)
            for office, perms in self.offices_granted.items()
        )

    def can_create_under(self, office: Office) -> bool:
        return self.has_office_perm(MANAGE_OFFICE, office)

    def can_edit_office(self, office: Office) -> bool:
        return self.has_office_perm(MANAGE_OFFICE, office, strictly_beneath=True)

    def can_edit_institution(self, institution: Institution) -> bool:
        return self.has_office_perm(MANAGE_OFFICE, institution.office)

    def can_issue_account_for(self, node) -> bool:
        if isinstance(node, Office):
            return self.has_office_perm(MANAGE_ACCOUNTS, node, strictly_beneath=True)
        return self.has_office_perm(MANAGE_ACCOUNTS, node.office) or self.has_institution_perm(MANAGE_STAFF, node)

    def can_manage_account(self, account) -> bool:
        """Disable, enable or reset the password of ``account``: only downward, never oneself or sideways."""
        if account.office_id:
            return self.has_office_perm(MANAGE_ACCOUNTS, account.office, strictly_beneath=True)
        if account.institution_id:
            institution = account.institution
            return self.has_office_perm(MANAGE_ACCOUNTS, institution.office) or (
                not account.is_master and self.has_institution_perm(MANAGE_STAFF, institution)
            )
        return False

    def accounts(self, queryset):
        """Accounts whose node lies beneath the user's managed nodes (see ``can_manage_account``)."""
        conditions = []
        for office, perms in self.offices_granted.items():
            if MANAGE_ACCOUNTS in perms:
                conditions.append(Q(office__path__subtree=office.path) & ~Q(office=office))
                conditions.append(Q(institution__path__subtree=office.path))
        for institution, perms in self.institutions_granted.items():
            if MANAGE_STAFF in perms:
                conditions.append(Q(institution=institution, is_master=False))
        if not conditions:
            return queryset.none()
        return queryset.filter(reduce(or_, conditions))

    def can_configure_region(self, region) -> bool:
        """Exam years and other region-wide settings belong to the region office itself."""
        return any(
            office.parent_id is None and office.region_id == region.pk and MANAGE_OFFICE in perms
            for office, perms in self.offices_granted.items()
        )

    def office_perms(self, office: Office) -> set[str]:
        """Every office permission held on ``office`` itself or above it."""
        return {perm for perm in OFFICE_PERMISSIONS if self.has_office_perm(perm, office)}

    @property
    def is_empty(self) -> bool:
        return not self.offices_granted and not self.institutions_granted


def scope_for(user) -> Scope:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_scope_cache", None)
    if cached is not None:
        return cached
    scope = Scope()
    grants = {Office: {}, Institution: {}}
    rows = getattr(user, "_grant_rows_read", None)  # read with the session: keep_grant_rows
    for kind, node_id, codename in _grant_rows(user) if rows is None else rows:
        grants[Office if kind == "office" else Institution].setdefault(node_id, set()).add(codename)
    scope.offices_granted = _by_node(Office, grants[Office], user, "office")
    scope.institutions_granted = _by_node(Institution, grants[Institution], user, "institution")
    user._scope_cache = scope
    return scope


def keep_grant_rows(user, rows) -> None:
    """Let ``scope_for(user)`` take the grants ``rows`` (as ``_grant_rows`` gives them) read with the request's
    session (accounts.session_store) instead of reading them itself."""
    user._grant_rows_read = rows


GRANT_TABLES = (("office", OfficeUserObjectPermission), ("institution", InstitutionUserObjectPermission))


@cache
def grant_sql(using: str, user: str = "%s") -> str:
    """Both grant tables in one query of (kind of node, node id, codename), for the account whose id is the SQL
    expression ``user`` (a parameter unless told), written once per process from the models: built and compiled by
    the ORM on each request (a union of two joins) it cost 0.45 ms of Python for 0.12 ms of execution
    (bench/README.md, stop 19)."""
    quote = connections[using].ops.quote_name
    permission = Permission._meta
    parts = []
    for kind, model in GRANT_TABLES:
        column = {name: quote(model._meta.get_field(name).column) for name in ("content_object", "permission", "user")}
        parts.append(
            f"SELECT '{kind}', g.{column['content_object']}, p.{quote(permission.get_field('codename').column)} "
            f"FROM {quote(model._meta.db_table)} g "
            f"JOIN {quote(permission.db_table)} p ON p.{quote(permission.pk.column)} = g.{column['permission']} "
            f"WHERE g.{column['user']} = {user}"
        )
    return " UNION ALL ".join(parts)


def _grant_rows(user):
    """(kind of node, node id, codename) of every grant of ``user``: one query for both tables."""
    using = router.db_for_read(OfficeUserObjectPermission)
    with connections[using].cursor() as cursor:
        cursor.execute(grant_sql(using), [user.pk] * len(GRANT_TABLES))
        return cursor.fetchall()


def _by_node(model, perms_by_id: dict, user, own_node: str) -> dict:
    """{node: codenames}; the account's own node, read with the account, is not read again."""
    nodes = {}
    if getattr(user, f"{own_node}_id") in perms_by_id:
        own = getattr(user, own_node)
        nodes[own.pk] = own
    missing = [pk for pk in perms_by_id if pk not in nodes]
    if missing:
        nodes.update(model.objects.in_bulk(missing))
    return {nodes[pk]: perms for pk, perms in perms_by_id.items() if pk in nodes}


def forget_scope(user) -> None:
    """Drop the cached grants after they change (e.g. in tests or after granting)."""
    user.__dict__.pop("_scope_cache", None)
    user.__dict__.pop("_grant_rows_read", None)
