"""Refuse any UPDATE of a probation record that sits on a finalised, submitted or filed roster.

A trigger rather than view code, so the lock holds for every path that writes: forms, imports, the admin,
QuerySet.update() and raw SQL alike. A returned or discarded roster no longer locks.
"""

from django.db import migrations

LOCK = """
CREATE FUNCTION reports_refuse_locked_record_update() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM reports_rosterentry e JOIN reports_roster r ON r.id = e.roster_id
        WHERE e.record_id = OLD.id AND r.status IN ('finalised', 'submitted', 'accepted')
    ) THEN
        RAISE EXCEPTION 'probation record % is on a finalised roster and cannot be changed', OLD.id
            USING ERRCODE = 'P0001', HINT = 'record_locked';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER reports_lock_records BEFORE UPDATE ON trainees_probationrecord
    FOR EACH ROW EXECUTE FUNCTION reports_refuse_locked_record_update();
"""

UNLOCK = """
DROP TRIGGER reports_lock_records ON trainees_probationrecord;
DROP FUNCTION reports_refuse_locked_record_update();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("trainees", "0002_exam_categories_and_eligibility_view")]

    operations = [migrations.RunSQL(LOCK, UNLOCK)]
