"""Role → Django group with permissions, from ``data/roles.json``."""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from importlib import resources

from django.contrib.auth.models import Group, Permission

from totalcap.accounts.choices import Role


@lru_cache(maxsize=1)
def role_permissions() -> dict[str, list[str]]:
    """Permission patterns per role: ``accounts/data/roles.json`` plus every app's
    ``<app>/data/roles.json`` (apps grant the permissions of their own models)."""
    from django.apps import apps

    merged: dict[str, list[str]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith("totalcap."):
            continue
        path = resources.files(config.name).joinpath("data/roles.json")
        if not path.is_file():
            continue
        for role, patterns in json.loads(path.read_text(encoding="utf-8")).items():
            if not role.startswith("_"):
                merged.setdefault(role, []).extend(patterns)
    return merged


def group_name(role: str) -> str:
    return f"role:{role}"


def _matches(patterns: list[str], app_label: str, codename: str) -> bool:
    full = f"{app_label}.{codename}"
    return any(p == "*" or fnmatch.fnmatchcase(full, p) for p in patterns)


def sync_role_groups(verbosity: int = 0) -> None:
    """Create or update one group per role so it holds exactly the role's permissions."""
    perms = list(Permission.objects.select_related("content_type"))
    table = role_permissions()
    for role in Role.values:
        patterns = table.get(role, [])
        group, _ = Group.objects.get_or_create(name=group_name(role))
        wanted = [p for p in perms if _matches(patterns, p.content_type.app_label, p.codename)]
        group.permissions.set(wanted)
