"""Load the exam categories (domain.md section 4) and create the eligibility view."""

from django.db import migrations

TCM_NAMES = ["中医", "中西医结合", "蒙医", "藏医", "维医"]


def categories():
    for level, suffix, prefix in (("physician", "执业医师", "1"), ("assistant", "执业助理医师", "2")):
        yield f"{prefix}10", f"临床{suffix}", level, "clinical"
        yield f"{prefix}20", f"口腔{suffix}", level, "dental"
        yield f"{prefix}30", f"公共卫生{suffix}", level, "public_health"
        for i, name in enumerate(TCM_NAMES, start=1):
            label = f"{name}{suffix}（具有规定学历）" if i == 1 else f"{name}{suffix}"
            yield f"{prefix}4{i}", label, level, "tcm"
    for level, suffix, prefix in (("physician", "执业医师", "3"), ("assistant", "执业助理医师", "4")):
        for i, name in enumerate(TCM_NAMES, start=1):
            yield f"{prefix}4{i}", f"{name}{suffix}（师承和确有专长）", level, "tcm"


def load_categories(apps, schema_editor):
    ExamCategory = apps.get_model("trainees", "ExamCategory")
    for code, name, level, category_class in categories():
        ExamCategory.objects.update_or_create(
            code=code, defaults={"name": name, "level": level, "category_class": category_class}
        )


# Within one (person, exam year, category) the passed periods cannot overlap (different institutions are
# excluded by constraint; one institution has one active record per year), so their lengths add up directly.
# A full year from a start S ends on S + 1 year - 1 day; a year starting on 29 February ends on 28 February.
ELIGIBILITY_VIEW = """
CREATE VIEW trainees_eligibility AS
WITH totals AS (
    SELECT r.person_id, r.exam_year_id, r.category_id,
           COALESCE(SUM(LEAST(r.end_date, y.cutoff) - r.start_date + 1)
                    FILTER (WHERE r.result = 'passed' AND r.start_date <= y.cutoff), 0)::integer AS covered_days,
           MIN(r.start_date) FILTER (WHERE r.result = 'passed' AND r.start_date <= y.cutoff) AS first_start,
           MAX(LEAST(r.end_date, y.cutoff)) FILTER (WHERE r.result = 'passed' AND r.start_date <= y.cutoff)
               AS last_end,
           COUNT(*) FILTER (WHERE r.result = 'in_progress')::integer AS in_progress_count,
           COUNT(*) FILTER (WHERE r.result = 'failed')::integer AS failed_count
    FROM trainees_probationrecord r
    JOIN trainees_examyear y ON y.id = r.exam_year_id
    WHERE r.withdrawn_at IS NULL
    GROUP BY r.person_id, r.exam_year_id, r.category_id
), required AS (
    SELECT t.*,
           CASE
               WHEN t.first_start IS NULL THEN NULL
               WHEN EXTRACT(MONTH FROM t.first_start) = 2 AND EXTRACT(DAY FROM t.first_start) = 29
                   THEN (t.first_start + INTERVAL '1 year')::date - t.first_start + 1
               ELSE (t.first_start + INTERVAL '1 year')::date - t.first_start
           END AS required_days
    FROM totals t
)
SELECT person_id, exam_year_id, category_id, covered_days, required_days, first_start, last_end,
       COALESCE((last_end - first_start + 1) - covered_days, 0)::integer AS gap_days,
       in_progress_count,
       CASE
           WHEN required_days IS NOT NULL AND covered_days >= required_days THEN 'eligible'
           WHEN in_progress_count > 0 THEN 'in_progress'
           WHEN covered_days > 0 THEN 'insufficient'
           WHEN failed_count > 0 THEN 'failed'
           ELSE 'none'
       END AS status
FROM required
"""


class Migration(migrations.Migration):
    dependencies = [("trainees", "0001_initial")]

    operations = [
        migrations.RunPython(load_categories, migrations.RunPython.noop),
        migrations.RunSQL(ELIGIBILITY_VIEW, "DROP VIEW trainees_eligibility"),
    ]
