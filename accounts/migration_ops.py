"""Helpers for the data migrations that give roles (groups) their permissions.

Each app's migration grants the permissions of its own models, with the list written
literally in the migration so history stays frozen.
"""

from __future__ import annotations

from typing import Any


def ensure_permissions(apps: Any) -> None:
    """Create content types and permissions now; Django would only do it after migrate."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _permissions(apps: Any, names: list[str]) -> list[Any]:
    permission = apps.get_model("auth", "Permission")
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


def grant(apps: Any, spec: dict[str, list[str]]) -> None:
    ensure_permissions(apps)
    group = apps.get_model("auth", "Group")
    for role, names in spec.items():
        role_group, _ = group.objects.get_or_create(name=role)
        role_group.permissions.add(*_permissions(apps, names))


def revoke(apps: Any, spec: dict[str, list[str]]) -> None:
    group = apps.get_model("auth", "Group")
    for role, names in spec.items():
        role_group = group.objects.filter(name=role).first()
        if role_group is not None:
            role_group.permissions.remove(*_permissions(apps, names))


def grant_operation(spec: dict[str, list[str]]) -> Any:
    """A reversible migration operation granting `spec` ({role: [app.codename]})."""
    from django.db import migrations

    return migrations.RunPython(
        lambda apps, schema_editor: grant(apps, spec),
        lambda apps, schema_editor: revoke(apps, spec),
    )
