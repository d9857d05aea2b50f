"""Eligible persons per institution for the filing dashboard, kept up to date by triggers (reports/dashboard.py).

The dashboard counts, per row of institutions, the distinct persons eligible in the category of one of their
records there. Evaluating the rule (the trainees_eligibility view, trainees migration 0002) over a whole province's
year at every page view cost most of the page's time; here it is evaluated per person when his records are written,
and the dashboard only counts rows of ``reports_eligible_at_institution``:

- after each statement that inserts, updates or deletes probation records, ``reports_refresh_eligible`` recomputes
  the rows of every (person, exam year) the statement touched (an update only when a column the rule reads
  changed), from the view: the rule stays in one place;
- when an exam year's cut-off changes, its rows are recomputed (``reports_rebuild_eligible``); so is every year
  here (the backfill), and bench/seed.py and institutions/scale.py call it after loads that switch triggers off.

Concurrent writes stay exact: two transactions writing records of one person recompute his rows one after the
other (a row lock on the person: the second recomputes from what the first committed), and a cut-off change waits
for the year's writers in flight and makes new ones wait (an advisory lock per exam year, shared by the writers).
Each statement after a lock is taken reads a fresh snapshot (READ COMMITTED, Django's default).
"""

import django.db.models.deletion
from django.db import migrations, models


# The advisory lock of an exam year: (this class, the year's id). Record writers take it shared, a cut-off change
# exclusively.
LOCK_CLASS = "hashtext('reports_eligible_at_institution')"

# The eligible rows of some records' persons (a condition on the view's grouping columns, which PostgreSQL pushes
# into the view: it reads only those persons' records).
ELIGIBLE_ROWS = """
    SELECT r.person_id, r.exam_year_id, r.institution_id,
           count(*) OVER (PARTITION BY r.person_id, r.exam_year_id) > 1
    FROM trainees_eligibility v
    JOIN trainees_probationrecord r
      ON r.person_id = v.person_id AND r.exam_year_id = v.exam_year_id AND r.category_id = v.category_id
    WHERE v.status = 'eligible' AND r.withdrawn_at IS NULL AND {condition}
"""

# The pairs persons[i], years[i]; the year of a rebuild.
PERSONS_ROWS = ELIGIBLE_ROWS.format(
    condition="v.person_id = ANY(persons) AND r.person_id = ANY(persons) "
    "AND (v.person_id, v.exam_year_id) IN (SELECT * FROM unnest(persons, years))"
)
YEAR_ROWS = ELIGIBLE_ROWS.format(condition="v.exam_year_id = for_year")

CREATE = f"""
-- The generic plan, made once per connection: planning the view for each record written would cost more than
-- running it.
CREATE FUNCTION reports_refresh_eligible(persons bigint[], years bigint[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    -- persons[i] and years[i]: the (person, exam year) pairs to recompute.
    -- Wait for a rebuild of these years in flight, and make the next one wait for this transaction.
    PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, y::integer)
    FROM (SELECT DISTINCT unnest(years) AS y ORDER BY 1) t;
    -- One writer of a person's records at a time (in id order: no deadlock between two statements): the next one
    -- recomputes from what this one committed. FOR NO KEY UPDATE leaves the foreign key checks (FOR KEY SHARE) free.
    PERFORM 1 FROM trainees_person WHERE id = ANY(persons) ORDER BY id FOR NO KEY UPDATE;
    DELETE FROM reports_eligible_at_institution e
    USING unnest(persons, years) AS t(person_id, exam_year_id)
    WHERE e.person_id = t.person_id AND e.exam_year_id = t.exam_year_id;
    INSERT INTO reports_eligible_at_institution (person_id, exam_year_id, institution_id, shared)
    {PERSONS_ROWS};
END
$$;

-- The whole year: after its cut-off changed, or a load with triggers off. It waits for the year's writers in flight
-- and makes new ones wait until this transaction ends.
CREATE FUNCTION reports_rebuild_eligible(for_year bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({LOCK_CLASS}, for_year::integer);
    DELETE FROM reports_eligible_at_institution WHERE exam_year_id = for_year;
    INSERT INTO reports_eligible_at_institution (person_id, exam_year_id, institution_id, shared)
    {YEAR_ROWS};
END
$$;

CREATE FUNCTION reports_eligible_records_written() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    persons bigint[];
    years bigint[];
BEGIN
    -- Only the transition tables of the trigger's own event exist: each branch reads those.
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(person_id), array_agg(exam_year_id) INTO persons, years
        FROM (SELECT DISTINCT person_id, exam_year_id FROM new_rows) t;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(person_id), array_agg(exam_year_id) INTO persons, years
        FROM (SELECT DISTINCT person_id, exam_year_id FROM old_rows) t;
    ELSE
        WITH changed AS (
            SELECT o.person_id AS old_person, o.exam_year_id AS old_year, n.person_id, n.exam_year_id
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.person_id, o.exam_year_id, o.category_id, o.institution_id, o.start_date, o.end_date, o.result,
                   o.withdrawn_at IS NULL)
                  IS DISTINCT FROM
                  (n.person_id, n.exam_year_id, n.category_id, n.institution_id, n.start_date, n.end_date, n.result,
                   n.withdrawn_at IS NULL)
        )
        SELECT array_agg(person_id), array_agg(exam_year_id) INTO persons, years
        FROM (SELECT old_person, old_year FROM changed UNION SELECT person_id, exam_year_id FROM changed)
             AS t(person_id, exam_year_id);
    END IF;
    IF persons IS NOT NULL THEN
        PERFORM reports_refresh_eligible(persons, years);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_eligible_on_insert AFTER INSERT ON trainees_probationrecord
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_eligible_records_written();
CREATE TRIGGER reports_eligible_on_update AFTER UPDATE ON trainees_probationrecord
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_eligible_records_written();
CREATE TRIGGER reports_eligible_on_delete AFTER DELETE ON trainees_probationrecord
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reports_eligible_records_written();

CREATE FUNCTION reports_eligible_cutoff_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reports_rebuild_eligible(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER reports_eligible_on_cutoff AFTER UPDATE OF cutoff ON trainees_examyear
    FOR EACH ROW WHEN (OLD.cutoff IS DISTINCT FROM NEW.cutoff)
    EXECUTE FUNCTION reports_eligible_cutoff_changed();

SELECT reports_rebuild_eligible(id) FROM trainees_examyear ORDER BY id;
ANALYZE reports_eligible_at_institution;
"""

DROP = """
DROP TRIGGER reports_eligible_on_cutoff ON trainees_examyear;
DROP TRIGGER reports_eligible_on_insert ON trainees_probationrecord;
DROP TRIGGER reports_eligible_on_update ON trainees_probationrecord;
DROP TRIGGER reports_eligible_on_delete ON trainees_probationrecord;
DROP FUNCTION reports_eligible_cutoff_changed();
DROP FUNCTION reports_eligible_records_written();
DROP FUNCTION reports_rebuild_eligible(bigint);
DROP FUNCTION reports_refresh_eligible(bigint[], bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0003_path_statistics"),
        ("reports", "0003_dashboard_indexes"),
        ("trainees", "0004_list_and_search_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="EligibleAtInstitution",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "person",
                        "exam_year",
                        "institution",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("shared", models.BooleanField()),
                (
                    "exam_year",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="trainees.examyear",
                    ),
                ),
                (
                    "institution",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="institutions.institution",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="trainees.person",
                    ),
                ),
            ],
            options={
                "verbose_name": "eligible person at an institution",
                "verbose_name_plural": "eligible persons at institutions",
                "db_table": "reports_eligible_at_institution",
                "indexes": [
                    models.Index(
                        condition=models.Q(("shared", False)),
                        fields=["exam_year", "institution"],
                        name="eligible_alone_idx",
                    ),
                    models.Index(
                        condition=models.Q(("shared", True)),
                        fields=["exam_year", "institution", "person"],
                        name="eligible_shared_idx",
                    ),
                ],
            },
        ),
        migrations.RunSQL(CREATE, DROP),
    ]
