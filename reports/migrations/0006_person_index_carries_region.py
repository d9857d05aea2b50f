"""The dashboard's index of a year's records by person carries the record's region too (trainees migration 0009).

A region office's record list is scoped by the records' region since then; filtered by year, result and a
sub-office, its count read this index alone before (everything it tests was in it) and could no longer: 25.6 ms
instead of 8.6 ms at province scale. Rebuilt CONCURRENTLY under a new name, then put in the old one's place.
"""

from django.db import migrations

COLUMNS = "(exam_year_id, person_id, category_id) INCLUDE (institution_id, result, start_date, end_date{extra})"


def rebuild(extra: str) -> list[str]:
    return [
        f"CREATE INDEX CONCURRENTLY reports_dash_record_person_new ON trainees_probationrecord "
        f"{COLUMNS.format(extra=extra)} WHERE withdrawn_at IS NULL",
        "DROP INDEX CONCURRENTLY reports_dash_record_person_idx",
        "ALTER INDEX reports_dash_record_person_new RENAME TO reports_dash_record_person_idx",
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("reports", "0005_refresh_eligible_per_person"),
        ("trainees", "0010_region_list_indexes"),
    ]

    operations = [migrations.RunSQL(rebuild(", region_id"), rebuild(""))]
