"""The exam region's hierarchy: regions, exam management offices and trial institutions.

Offices form a tree stored as a materialized path (``path``): every office's path is its parent's path followed
by its own primary key and a slash, so "everything beneath this office" is a single indexed prefix query.
Institutions copy their supervising office's path so that records can be scoped the same way.
"""

import uuid

import pghistory
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Count, Q
from django.db.models.functions import Collate
from django.db.models.lookups import StartsWith
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from guardian.models import UserObjectPermissionBase

from hbwsrc import identifiers
from hbwsrc.composed import Composed
from hbwsrc.search import SearchGrams


class TreePathField(models.CharField):
    """An office's path in the tree ("1/8/12/"), or the path of an institution's supervising office."""


@TreePathField.register_lookup
class Subtree(models.Lookup):
    """``path__subtree=office.path``: at ``office`` or beneath it.

    Beneath a region's own office, the paths between ``office.path`` and the first string past all that start
    with it (``~>=~`` and ``~<~``, the operators of the paths' text_pattern_ops indexes), not LIKE: bound as
    parameters, a range can be prepared (hbwsrc.db), and the generic plan PostgreSQL then keeps guesses that it
    matches a small share of the rows, as a prefecture's or a county's subtree does. A region's own office matches
    its whole region: LIKE, which is planned for its value on every request, as a generic plan's guess would be
    wrong by a hundredfold there.
    """

    lookup_name = "subtree"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        path = self.rhs
        if path.count("/") <= 1:  # "5/": a region's own office ("": every region)
            return StartsWith(self.lhs, path).as_sql(compiler, connection)
        column, params = self.process_lhs(compiler, connection)
        return f"({column} ~>=~ %s AND {column} ~<~ %s)", [*params, path, *params, past_subtree(path)]


def past_subtree(path: str) -> str:
    """The first path past all those that start with ``path``: "1/8/" -> "1/80" ("/" and "0" are neighbours)."""
    return path[:-1] + chr(ord(path[-1]) + 1)


PAST_EVERY_PATH = ":"  # paths are digits and slashes: ":" follows "9" and "/" byte-wise


class Region(models.Model):
    """An exam region (考区), the tenant: e.g. 湖北考区."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, unique=True)
    division_code = models.CharField(_("division code"), max_length=6, unique=True)

    class Meta:
        verbose_name = _("exam region")
        verbose_name_plural = _("exam regions")
        ordering = ["division_code"]

    def __str__(self):
        return self.name


class OfficeQuerySet(models.QuerySet):
    def for_user(self, user):
        from institutions.scope import scope_for

        return scope_for(user).offices(self)


class Office(models.Model):
    """An exam management office (考试管理机构); the root of each region's tree is the region's own office."""

    class Kind(models.TextChoices):
        REGION = "region", _("Exam region office")
        PREFECTURE = "prefecture", _("Prefecture office")
        DIRECT_CITY = "direct_city", _("Province-administered city office")
        FORESTRY_DISTRICT = "forestry_district", _("Forestry district office")
        EXAM_SITE = "exam_site", _("Exam site")
        COUNTY = "county", _("County office")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, models.PROTECT, related_name="offices", verbose_name=_("exam region"))
    parent = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent office"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)
    division_code = models.CharField(
        _("division code"),
        max_length=6,
        blank=True,
        help_text=_("GB/T 2260 code of the administrative division, if the office has one."),
    )
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    path = TreePathField(max_length=255, editable=False, db_index=False)
    depth = models.PositiveSmallIntegerField(editable=False, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OfficeQuerySet.as_manager()

    class Meta:
        verbose_name = _("exam management office")
        verbose_name_plural = _("exam management offices")
        ordering = ["path"]
        permissions = [
            ("manage_office", _("Create and edit sub-offices and institutions")),
            ("manage_accounts", _("Issue and manage accounts")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=Q(parent__isnull=True), name="office_one_root_per_region"
            ),
            models.UniqueConstraint(
                fields=["region", "division_code"],
                condition=~Q(division_code=""),
                name="office_unique_division_code",
                violation_error_message=_("Another office in this region already has this division code."),
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="office_unique_name_under_parent"),
            models.CheckConstraint(
                condition=Q(division_code="") | Q(division_code__regex=r"^[0-9]{6}$"),
                name="office_division_code_format",
                violation_error_message=_("A division code is six digits."),
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, kind="region") | Q(parent__isnull=False) & ~Q(kind="region"),
                name="office_root_is_region_office",
            ),
        ]
        indexes = [models.Index(fields=["path"], name="office_path_idx", opclasses=["text_pattern_ops"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        creating = self._state.adding
        super().save(*args, **kwargs)
        if creating:
            self.path = (self.parent.path if self.parent else "") + f"{self.pk}/"
            self.depth = self.parent.depth + 1 if self.parent else 0
            Office.objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)

    def get_absolute_url(self):
        return reverse("institutions:office_detail", args=[self.public_id])

    def is_within(self, other: "Office") -> bool:
        """True when this office is ``other`` or beneath it."""
        return self.path.startswith(other.path)


class InstitutionQuerySet(models.QuerySet):
    def profile_complete(self):
        return self.filter(PROFILE_COMPLETE)

    def for_user(self, user):
        from institutions.scope import scope_for

        return scope_for(user).institutions(self)

    def in_tree_order(self):
        """Grouped by supervising office, offices in tree order (an institution's path is its office's), then by
        name. The path is compared byte by byte ("C"), as ``institution_tree_order_idx`` is ordered."""
        return self.order_by(Collate("path", "C"), "name")


@pghistory.track()
class Institution(models.Model):
    """A trial institution (试用机构): a hospital, health centre or college where trainees serve probation.

    The supervising office creates it (name, office, contact); the institution completes its own profile before
    it may enter probation records.
    """

    class Category(models.TextChoices):
        HOSPITAL = "A", _("A Hospital")
        COMMUNITY = "B", _("B Community health service centre (station)")
        HEALTH_CENTRE = "C", _("C Township health centre")
        CLINIC = "D", _("D Outpatient department, clinic, infirmary, village clinic")
        EMERGENCY = "E", _("E Emergency centre (station)")
        BLOOD = "F", _("F Blood collection and supply")
        MATERNAL_CHILD = "G", _("G Maternal and child health care")
        SPECIALIST = "H", _("H Specialist disease prevention and treatment")
        CDC = "J", _("J Centre for disease control and prevention")
        SUPERVISION = "K", _("K Health supervision")
        RESEARCH = "M", _("M Medical research institution")
        EDUCATION = "N", _("N Medical education institution")
        OTHER = "P", _("P Other")

    class Level(models.TextChoices):
        FIRST = "1", _("Level 1")
        SECOND = "2", _("Level 2")
        THIRD = "3", _("Level 3")
        UNRATED = "unrated", _("Not rated")

    class Grade(models.TextChoices):
        A = "A", _("Grade A (甲)")
        B = "B", _("Grade B (乙)")
        C = "C", _("Grade C (丙)")
        UNRATED = "unrated", _("Not graded")

    class Ownership(models.TextChoices):
        PUBLIC = "public", _("Public")
        PRIVATE = "private", _("Non-public")

    class ProfitStatus(models.TextChoices):
        NON_PROFIT = "non_profit", _("Non-profit")
        FOR_PROFIT = "for_profit", _("For-profit")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, models.PROTECT, related_name="institutions", verbose_name=_("exam region"))
    office = models.ForeignKey(
        Office, models.PROTECT, related_name="institutions", verbose_name=_("supervising office")
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("The name on the practising licence."))
    contact_person = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    path = TreePathField(max_length=255, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # The profile, completed by the institution itself.
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[identifiers.validate_uscc]
    )
    licence_number = models.CharField(
        _("practising licence registration number"),
        max_length=40,
        blank=True,
        help_text=_("医疗机构执业许可证登记号, usually 22 characters."),
    )
    licence_valid_until = models.DateField(_("licence valid until"), null=True, blank=True)
    category = models.CharField(_("institution category"), max_length=1, choices=Category.choices, blank=True)
    category_code = models.CharField(
        _("category code"), max_length=4, blank=True, help_text=_("WS 218-2002 code, e.g. A100 general hospital.")
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices, blank=True)
    ownership = models.CharField(_("ownership"), max_length=10, choices=Ownership.choices, blank=True)
    profit_status = models.CharField(_("profit status"), max_length=12, choices=ProfitStatus.choices, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    head_name = models.CharField(_("head or legal representative"), max_length=50, blank=True)
    departments = ArrayField(
        models.CharField(max_length=50),
        verbose_name=_("registered departments"),
        default=list,
        blank=True,
        help_text=_("The 诊疗科目 on the practising licence."),
    )

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        verbose_name = _("trial institution")
        verbose_name_plural = _("trial institutions")
        ordering = ["name"]
        permissions = [
            ("manage_records", _("Enter and edit probation records")),
            ("manage_staff", _("Issue and manage staff accounts")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uscc"],
                condition=~Q(uscc=""),
                name="institution_unique_uscc",
                violation_error_message=_("Another institution already has this unified social credit code."),
            ),
            models.UniqueConstraint(
                fields=["region", "name"],
                name="institution_unique_name_in_region",
                violation_error_message=_("An institution with this name already exists in this region."),
            ),
            # What a probation record's (institution, region) refers to (trainees migration 0009): an institution
            # with records cannot leave its region.
            models.UniqueConstraint(fields=["id", "region"], name="institution_id_region_key"),
        ]
        indexes = [
            models.Index(fields=["path"], name="institution_path_idx", opclasses=["text_pattern_ops"]),
            # The orders of the institution list (by name: institution_unique_name_in_region for a region office,
            # whose scope is its region; this index for the admin's list of every institution) and of the filing
            # list (tree order: by region for a region office, by the path's range for the offices beneath): the
            # first 50 entries are read in order instead of sorting a region's institutions.
            models.Index(fields=["name"], name="institution_name_idx"),
            models.Index(Collate("path", "C"), "name", name="institution_tree_order_idx"),
            models.Index("region", Collate("path", "C"), "name", name="institution_region_tree_idx"),
            # Searches by any part of the name (the institution and filing lists, the record list's institution
            # filter, the record admin): hbwsrc.search.
            GinIndex(SearchGrams("name"), name="institution_name_grams_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = self.office.path
        self.region_id = self.office.region_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("institutions:institution_detail", args=[self.public_id])

    @property
    def profile_complete(self) -> bool:
        return all(getattr(self, name) for name in PROFILE_REQUIRED_FIELDS)

    @property
    def missing_profile_fields(self) -> list[str]:
        return [self._meta.get_field(name).verbose_name for name in PROFILE_REQUIRED_FIELDS if not getattr(self, name)]


PROFILE_REQUIRED_FIELDS = (
    "uscc",
    "licence_number",
    "licence_valid_until",
    "category",
    "level",
    "grade",
    "ownership",
    "profit_status",
    "address",
    "head_name",
    "contact_person",
    "contact_phone",
    "departments",
)
# The same rule in SQL, for counting complete profiles over a whole subtree.
PROFILE_COMPLETE = Q(licence_valid_until__isnull=False, departments__len__gt=0)
for _name in PROFILE_REQUIRED_FIELDS:
    if _name not in ("licence_valid_until", "departments"):
        PROFILE_COMPLETE &= ~Q(**{_name: ""})


def _paths_in_range(p):
    return (
        Institution.objects.annotate(tree_path=Collate("path", "C"))
        .filter(tree_path__gte=p.low, tree_path__lt=p.high)
        .order_by()
        .values("tree_path")
        .annotate(n=Count("*"))
    )


# Read from institution_tree_order_idx alone, already grouped in its order, and composed once (hbwsrc.composed): a
# range of byte-wise ("C") paths has one plan for any prefix. A whole province's region counted with LIKE read every
# institution's row and hashed them: 2.4 ms, against 0.9 from the index (bench/README.md stop 27).
_counted_in_range = Composed(_paths_in_range, low=str, high=str)


def institutions_per_path(prefix: str) -> list[tuple[str, int]]:
    """(path, institutions) for each path that starts with ``prefix`` ("" for every path)."""
    high = past_subtree(prefix) if prefix else PAST_EVERY_PATH
    return [(row["tree_path"], row["n"]) for row in _counted_in_range(low=prefix, high=high)]


class OfficeUserObjectPermission(UserObjectPermissionBase):
    """A permission granted to an account on an office; it applies to everything beneath that office."""

    content_object = models.ForeignKey(Office, models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("office permission")
        verbose_name_plural = _("office permissions")


class InstitutionUserObjectPermission(UserObjectPermissionBase):
    """A permission granted to an account on its own institution."""

    content_object = models.ForeignKey(Institution, models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("institution permission")
        verbose_name_plural = _("institution permissions")
