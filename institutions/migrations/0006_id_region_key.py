"""What a probation record's (institution, region) foreign key refers to (trainees migration 0009)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('institutions', '0005_name_grams_index'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='institution',
            constraint=models.UniqueConstraint(fields=('id', 'region'), name='institution_id_region_key'),
        ),
    ]
