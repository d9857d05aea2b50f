"""Recompute the eligible rows of a written statement's persons one (person, exam year) at a time.

0004's ``reports_refresh_eligible`` evaluated all the statement's persons in one query, whose plan depends on the
records table's statistics. Inside a large import into a table the statistics still call nearly empty (a new
deployment, the import benchmark's scratch database) the planner chose to read every record of the year for each
person, so each batch of 500 rows cost more than the one before: 10,000 rows took 13.5 s of trigger time instead of
a few tenths. Looking up one person's records of one year has one sensible plan (the person index), whatever the
statistics say. The rule itself is still read from the trainees_eligibility view.
"""

import importlib
import re

from django.db import migrations

previous = importlib.import_module("reports.migrations.0004_eligible_at_institution")

PAIR_ROWS = previous.ELIGIBLE_ROWS.format(
    condition="v.person_id = one_person AND r.person_id = one_person "
    "AND v.exam_year_id = one_year AND r.exam_year_id = one_year"
)

REFRESH = f"""
CREATE OR REPLACE FUNCTION reports_refresh_eligible(persons bigint[], years bigint[]) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    one_person bigint;
    one_year bigint;
BEGIN
    -- persons[i] and years[i]: the (person, exam year) pairs to recompute. The locks are 0004's.
    PERFORM pg_advisory_xact_lock_shared({previous.LOCK_CLASS}, y::integer)
    FROM (SELECT DISTINCT unnest(years) AS y ORDER BY 1) t;
    PERFORM 1 FROM trainees_person WHERE id = ANY(persons) ORDER BY id FOR NO KEY UPDATE;
    -- One statement: a planner that believes the table empty scans it, once here rather than once a person.
    DELETE FROM reports_eligible_at_institution e
    USING unnest(persons, years) AS t(person_id, exam_year_id)
    WHERE e.person_id = t.person_id AND e.exam_year_id = t.exam_year_id;
    FOR one_person, one_year IN SELECT DISTINCT * FROM unnest(persons, years) LOOP
        INSERT INTO reports_eligible_at_institution (person_id, exam_year_id, institution_id, shared)
        {PAIR_ROWS};
    END LOOP;
END
$$;
"""

# 0004's function, as it was.
PREVIOUS_REFRESH = (
    re.search(r"CREATE FUNCTION reports_refresh_eligible\(.*?\n\$\$;", previous.CREATE, flags=re.DOTALL)
    .group(0)
    .replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
)


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_eligible_at_institution")]

    operations = [migrations.RunSQL(REFRESH, PREVIOUS_REFRESH)]
