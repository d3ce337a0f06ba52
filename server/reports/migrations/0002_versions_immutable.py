"""A stored version never changes: a trigger refuses UPDATE and DELETE on report versions, whoever asks (the
application, a psql session, a future bug), as the audit trail's does."""

from django.db import migrations

TRIGGER = """
CREATE FUNCTION report_version_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'report versions are immutable';
END;
$$;
CREATE TRIGGER report_version_immutable BEFORE UPDATE OR DELETE ON report_version
    FOR EACH ROW EXECUTE FUNCTION report_version_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [
        migrations.RunSQL(
            TRIGGER,
            reverse_sql=(
                "DROP TRIGGER report_version_immutable ON report_version; "
                "DROP FUNCTION report_version_refuse_change();"
            ),
        ),
    ]
