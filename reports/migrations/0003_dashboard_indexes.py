"""Indexes for the filing dashboard (reports/dashboard.py), which aggregates a whole exam region in a few queries.

They live here rather than on the models because only the dashboard needs them; each is partial and covering, so
that its query reads the index alone (an index-only scan) in the order it groups by:

- the year's active records by person and category, carrying what the eligibility rule reads: the window that
  decides each person's eligibility runs over them without sorting;
- the year's active records by institution: whether an institution has any, and how many;
- the year's active records by entry time, for the records-entered-per-day chart;
- each institution's rosters of the year, newest version first, without the discarded ones: the current roster
  of every institution in one pass.
"""

from django.db import migrations

CREATE = """
CREATE INDEX reports_dash_record_person_idx ON trainees_probationrecord
    (exam_year_id, person_id, category_id) INCLUDE (institution_id, result, start_date, end_date)
    WHERE withdrawn_at IS NULL;
CREATE INDEX reports_dash_record_institution_idx ON trainees_probationrecord
    (exam_year_id, institution_id)
    WHERE withdrawn_at IS NULL;
CREATE INDEX reports_dash_record_entered_idx ON trainees_probationrecord
    (exam_year_id, created_at) INCLUDE (institution_id)
    WHERE withdrawn_at IS NULL;
CREATE INDEX reports_dash_roster_latest_idx ON reports_roster
    (exam_year_id, institution_id, version DESC) INCLUDE (status, submitted_at)
    WHERE status <> 'cancelled';
"""

DROP = """
DROP INDEX reports_dash_record_person_idx;
DROP INDEX reports_dash_record_institution_idx;
DROP INDEX reports_dash_record_entered_idx;
DROP INDEX reports_dash_roster_latest_idx;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_lock_records_on_open_rosters"),
        ("trainees", "0002_exam_categories_and_eligibility_view"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
