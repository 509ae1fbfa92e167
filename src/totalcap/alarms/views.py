"""Alarm pages: list, detail with deliveries and actions, acknowledge / clear, the in-app inbox."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from totalcap.alarms import services
from totalcap.alarms.models import Alarm, InAppNotification
from totalcap.alarms.transitions import ALARM_LIFE_CYCLE
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.views import ScopedDetailView


class AlarmDetailView(ScopedDetailView):
    model = Alarm
    template_name = "alarms/alarm_detail.html"
    detail_fields = (
        "type", "severity", "source", "title", "message", "enterprise", "outlet", "jurisdiction", "status",
        "raised_at", "last_seen_at", "occurrences", "acknowledged_by", "acknowledged_at", "cleared_by",
        "cleared_at", "clear_reason", "escalation_level", "escalate_at",
    )  # fmt: skip

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["deliveries"] = self.object.deliveries.select_related("channel").order_by("-created_at")
        context["actions"] = [t.action for t in ALARM_LIFE_CYCLE.available(self.object, self.request.user)]
        return context


@require_POST
@login_required
def alarm_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge or clear an alarm (the alarm must be visible to the user)."""
    if not request.user.has_perm("alarms.view_alarm"):
        raise PermissionDenied
    alarm = get_object_or_404(Alarm.objects.restrict(request.user, "view"), pk=pk)
    try:
        if action == "acknowledge":
            services.acknowledge(request.user, alarm)
            messages.success(request, "报警已确认。")
        elif action == "clear":
            services.clear(request.user, alarm, request.POST.get("reason", ""))
            messages.success(request, "报警已解除。")
        else:
            raise PermissionDenied
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(alarm.get_absolute_url())


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's in-app messages; opening the page marks them read."""
    notes = list(InAppNotification.objects.filter(user=request.user).select_related("alarm")[:200])
    unread = [n.pk for n in notes if n.read_at is None]
    if unread:
        InAppNotification.objects.filter(pk__in=unread).update(read_at=timezone.now())
    return render(request, "alarms/inbox.html", {"notes": notes, "unread": set(unread)})
