"""Text columns without a length, and the description indexed through a generated key column.

The legacy columns are VARCHAR without a length, so a length of ours refused valid records; the limits
that remain are the importer's (``server.studies.models.TEXT_LIMITS``), which keep every btree entry within
its 2,704 bytes. varchar(n) to varchar changes no stored row. The description's plain btree could not hold a
long description, so it gives way to one over ``exam_description_key``, its first 500 characters, a stored
generated column: adding it rewrites the table once (about as long as rebuilding its indexes), and the
column's type is changed before the key depends on it.
"""

import django.db.models.functions.text
import server.studies.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('studies', '0008_option_field_indexes'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='study',
            name='study_description_idx',
        ),
        migrations.AlterField(
            model_name='study',
            name='application_order_no',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='certified_physician',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='equipment_type',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_description',
            field=server.studies.fields.PrefixKeyedCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_equipment',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_id',
            field=server.studies.fields.CodePointCharField(primary_key=True, serialize=False),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_item',
            field=server.studies.fields.CodePointCharField(),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_room',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_source',
            field=server.studies.fields.CodePointCharField(),
        ),
        migrations.AlterField(
            model_name='study',
            name='exam_status',
            field=server.studies.fields.CodePointCharField(),
        ),
        migrations.AlterField(
            model_name='study',
            name='medical_record_no',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='patient_gender',
            field=server.studies.fields.CodePointCharField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='study',
            name='patient_name',
            field=server.studies.fields.CodePointCharField(),
        ),
        migrations.AddField(
            model_name='study',
            name='exam_description_key',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Left('exam_description', 500), output_field=server.studies.fields.CodePointCharField(null=True)),
        ),
        migrations.AddIndex(
            model_name='study',
            index=models.Index(fields=['exam_description_key'], name='study_description_key_idx'),
        ),
    ]
