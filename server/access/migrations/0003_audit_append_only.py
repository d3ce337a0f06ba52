"""PostgreSQL guards of the audit trail: a trigger that refuses UPDATE and DELETE, and a GIN index on the
exam_ids of each event so that "who looked at this exam" is fast."""

from django.db import migrations


TRIGGER = """
CREATE FUNCTION audit_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("access", "0002_roles")]

    operations = [
        migrations.RunSQL(
            TRIGGER,
            reverse_sql="DROP TRIGGER audit_event_append_only ON audit_event; DROP FUNCTION audit_event_refuse_change();",
        ),
        migrations.RunSQL(
            "CREATE INDEX audit_exam_ids_idx ON audit_event USING gin (exam_ids jsonb_path_ops)",
            reverse_sql="DROP INDEX audit_exam_ids_idx",
        ),
    ]
