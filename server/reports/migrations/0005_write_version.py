from django.db import migrations


class Migration(migrations.Migration):
    """The sequence that every write of reports moves on (server/reports/write_version.py)."""

    dependencies = [("reports", "0004_search_orders")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE report_write_version", reverse_sql="DROP SEQUENCE report_write_version"
        )
    ]
