# Btree indexes for exact chart and order numbers (see Study.Meta): their trigram indexes answered `=` slowly.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0005_drop_low_selectivity_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['medical_record_no'], name='study_medical_record_no_idx'),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['application_order_no'], name='study_application_order_no_idx'),
        ),
    ]
