"""A region office's institutions in tree order from an index that starts with their region (its scope)."""

import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('institutions', '0007_tree_path_field'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='institution',
            index=models.Index(models.F('region'), django.db.models.functions.comparison.Collate('path', 'C'), models.F('name'), name='institution_region_tree_idx'),
        ),
    ]
