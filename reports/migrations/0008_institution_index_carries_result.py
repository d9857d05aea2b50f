"""The index of a year's records by institution is keyed by their result too, and carries their region and id.

A region office's record list filtered by year, result and sub-office counted its matches by reading the whole
region's entries of the year (reports_dash_record_person_idx, hashed against the sub-office's institutions: a
prefecture's passed records at province scale, 10 ms); now each institution of the sub-office is looked up for
that year and result, from the index alone (2.7 ms; the region, which the region office's scope tests, is carried
for that). Its page of ids, newest first, is read from the index alone too (nation scale: 5.1 -> 0.9 ms). The
dashboard reads the same index by year and institution as before. Rebuilt as in 0007.
"""

from django.db import migrations

COLUMNS = "(exam_year_id, institution_id{key}) INCLUDE (created_at{include})"


def rebuild(key: str, include: str) -> list[str]:
    return [
        f"CREATE INDEX CONCURRENTLY reports_dash_record_institution_new ON trainees_probationrecord "
        f"{COLUMNS.format(key=key, include=include)} WHERE withdrawn_at IS NULL",
        "DROP INDEX CONCURRENTLY reports_dash_record_institution_idx",
        "ALTER INDEX reports_dash_record_institution_new RENAME TO reports_dash_record_institution_idx",
    ]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reports", "0007_institution_index_carries_entry_time")]

    operations = [migrations.RunSQL(rebuild(", result", ", region_id, id"), rebuild("", ""))]
