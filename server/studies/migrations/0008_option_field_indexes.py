# Btree indexes on the drop-down fields (see Study.Meta): their distinct values by a loose index scan.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0007_data_version_search_profile'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['exam_status'], name='study_status_idx'),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['exam_source'], name='study_source_idx'),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['equipment_type'], name='study_equipment_type_idx'),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['exam_room'], name='study_exam_room_idx'),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['exam_equipment'], name='study_exam_equipment_idx'),
        ),
    ]
