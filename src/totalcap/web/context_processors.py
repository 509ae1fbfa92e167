from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from totalcap.web.navigation import SECTIONS


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Menu sections with the items the user may open, and the active item."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    sections = []
    for sec in sorted(SECTIONS.values(), key=lambda s: s.order):
        items = []
        for item in sec.items:
            if not user.has_perm(item.permission):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            items.append(
                {"label": item.label, "url": url, "icon": item.icon, "active": request.path.startswith(url)}
            )
        if items:
            sections.append({"label": sec.label, "items": items})
    from totalcap.alarms.models import InAppNotification

    unread = InAppNotification.objects.filter(user=user, read_at__isnull=True).count()
    return {"nav_sections": sections, "unread_notifications": unread}
