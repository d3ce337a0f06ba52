import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Versions are looked up by report through report_version_number_unique (report, number); the foreign
    key's own index and its LIKE twin only cost two more index writes on every version stored."""

    dependencies = [
        ("reports", "0005_write_version"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reportversion",
            name="report",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="versions",
                to="reports.report",
            ),
        ),
    ]
