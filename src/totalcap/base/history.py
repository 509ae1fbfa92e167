"""An object's change history for detail pages: field diffs (django-pghistory) and domain events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models

from totalcap.base.events import action_label, events_for


@dataclass
class HistoryEntry:
    at: datetime
    who: str
    kind: str  # "diff" or "event"
    label: str
    changes: list[tuple[str, Any, Any]]
    subject: str = ""  # set when the change is to a related object (a contact of the enterprise …)


def _field_label(model: type[models.Model], name: str) -> str:
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except Exception:
        return name


def history_for(obj: models.Model, limit: int = 100) -> list[HistoryEntry]:
    """Newest first: changes to the object and to objects that refer to it (its contacts, outlets …)
    with their field diffs, merged with the object's domain events."""
    from django.apps import apps
    from pghistory.models import MiddlewareEvents

    entries: list[HistoryEntry] = []
    users: dict[Any, str] = {}
    rows = list(MiddlewareEvents.objects.references(obj).order_by("-pgh_created_at")[:limit])
    user_ids = {r.user_id for r in rows if getattr(r, "user_id", None)}
    if user_ids:
        User = get_user_model()
        users = {u.pk: u.get_username() for u in User.objects.filter(pk__in=user_ids)}
    own_label = obj._meta.label
    for row in rows:
        diff = row.pgh_diff or {}
        model = apps.get_model(row.pgh_obj_model)
        subject = ""
        if row.pgh_obj_model != own_label or str(row.pgh_obj_id) != str(obj.pk):
            subject = f"{model._meta.verbose_name} {row.pgh_data.get('name') or row.pgh_data.get('code') or row.pgh_data.get('username') or row.pgh_obj_id}"
        changes = [
            (_field_label(model, k), v[0], v[1])
            for k, v in sorted(diff.items())
            if k not in {"updated_at", "created_at"} and not k.endswith("password")
        ]
        if row.pgh_label == "update" and not changes:
            continue
        entries.append(
            HistoryEntry(
                at=row.pgh_created_at,
                who=users.get(getattr(row, "user_id", None), "系统"),
                kind="diff",
                label={"insert": "创建", "update": "修改", "delete": "删除"}.get(
                    row.pgh_label, row.pgh_label
                ),
                changes=changes,
                subject=subject,
            )
        )
    for event in events_for(obj)[:limit]:
        entries.append(
            HistoryEntry(
                at=event.occurred_at,
                who=event.actor_label,
                kind="event",
                label=action_label(event.action),
                changes=[],
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
