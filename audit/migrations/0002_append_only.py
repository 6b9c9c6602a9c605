"""On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE, whoever asks.

SQLite has no such triggers worth the name; there the hash chain is the protection, and
`verify_audit` finds any change. Also gives the auditor and supervisor roles their audit
permissions (groups are created here if the accounts migration has not run yet).
"""

from django.db import migrations

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_refuse_change();
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event;
DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event;
DROP FUNCTION IF EXISTS audit_event_refuse_change();
"""

PERMISSIONS = {
    "auditor": ["view_event", "verify_chain"],
    "supervisor": ["review_access"],
}


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("audit")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    group = apps.get_model("auth", "Group")
    permission = apps.get_model("auth", "Permission")
    for role, codenames in PERMISSIONS.items():
        role_group, _ = group.objects.get_or_create(name=role)
        role_group.permissions.add(
            *permission.objects.filter(content_type__app_label="audit", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    permission = apps.get_model("auth", "Permission")
    for role, codenames in PERMISSIONS.items():
        for role_group in group.objects.filter(name=role):
            role_group.permissions.remove(
                *permission.objects.filter(content_type__app_label="audit", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(add_triggers, drop_triggers),
        migrations.RunPython(grant, revoke),
    ]
