"""Home page, the domain-event list, and the health check."""

from __future__ import annotations

from typing import Any

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from totalcap.base.filtersets import ScopedFilterSet
from totalcap.base.models import DomainEvent
from totalcap.base.tables import BaseTable
from totalcap.base.views import ScopedListView
from totalcap.registry.models import DataLogger, Enterprise, Outlet, Valve


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Counts of what the user may see, by jurisdiction."""
    user = request.user
    enterprises = Enterprise.objects.restrict(user, "view")
    counts = {
        "enterprises": enterprises.count(),
        "outlets": Outlet.objects.restrict(user, "view").count(),
        "loggers": DataLogger.objects.restrict(user, "view").count(),
        "valves": Valve.objects.restrict(user, "view").count(),
    }
    by_jurisdiction = (
        enterprises.values("jurisdiction__name", "jurisdiction__code")
        .annotate(n=Count("id"))
        .order_by("jurisdiction__code")
    )
    by_class = enterprises.values("management_class").annotate(n=Count("id")).order_by("management_class")
    labels = dict(Enterprise._meta.get_field("management_class").choices or [])
    return render(
        request,
        "web/home.html",
        {
            "counts": counts,
            "by_jurisdiction": list(by_jurisdiction),
            "by_class": [
                {"label": labels.get(r["management_class"], r["management_class"]), "n": r["n"]}
                for r in by_class
            ],
            "recent_events": DomainEvent.objects.restrict(user, "view")[:10],
        },
    )


class DomainEventFilterSet(ScopedFilterSet):
    search_fields = ("object_repr", "actor_label", "action", "object_id")
    occurred_after = django_filters.DateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label="起始时间"
    )

    class Meta:
        model = DomainEvent
        fields = ["object_type", "action"]


class DomainEventTable(BaseTable):
    id = tables.Column(verbose_name="序号")
    hash = tables.Column(verbose_name="哈希", attrs={"td": {"class": "font-monospace small text-muted"}})

    class Meta(BaseTable.Meta):
        model = DomainEvent
        fields = ("id", "occurred_at", "actor_label", "action", "object_type", "object_repr", "hash")

    def render_hash(self, value: str) -> str:
        return value[:12] + "…"


class DomainEventListView(ScopedListView):
    model = DomainEvent
    table_class = DomainEventTable
    filterset_class = DomainEventFilterSet

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_add"] = False
        return context


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception as exc:  # pragma: no cover - exercised by operations, not tests
        return JsonResponse({"status": "error", "detail": str(exc)}, status=503)
