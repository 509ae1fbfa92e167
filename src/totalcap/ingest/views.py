"""Ingest pages: live logger state (HTMX polling), raw frame browser, commands, site information,
and the Prometheus ``/ingest/metrics`` text of every live gateway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import generic
from django.views.decorators.http import require_POST
from django_tables2.paginators import LazyPaginator
from django_tables2.views import SingleTableMixin

from hj212 import parse_frame
from hj212.errors import HJ212Error
from hj212.messages import parse_message
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.views import ScopedDetailView, ScopedListView, ScopedMixin
from totalcap.ingest import services
from totalcap.ingest.catalogue import BY_NAME, SPECS
from totalcap.ingest.forms import SendCommandForm
from totalcap.ingest.models import Command, GatewayStatus, RawFrame
from totalcap.ingest.transitions import COMMAND_LIFE_CYCLE
from totalcap.registry.models import DataLogger


class LiveView(ScopedMixin, SingleTableMixin, generic.ListView):
    """Loggers in scope with their connection state; the table refreshes itself every 5 seconds."""

    model = DataLogger
    template_name = "ingest/live.html"
    paginate_by = 100

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not request.user.has_perm("ingest.view_loggersession"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_table_class(self) -> Any:
        from totalcap.ingest.tables import LiveTable

        return LiveTable

    def get_queryset(self) -> Any:
        qs = super().get_queryset().select_related("outlet__enterprise", "ingest_session")
        state = self.request.GET.get("state")
        if state == "online":
            qs = qs.filter(ingest_session__online=True)
        elif state == "offline":
            qs = qs.filter(Q(ingest_session__online=False) | Q(ingest_session__isnull=True))
        query = (self.request.GET.get("q") or "").strip()
        if query:
            qs = qs.filter(
                Q(mn__icontains=query)
                | Q(name__icontains=query)
                | Q(outlet__enterprise__name__icontains=query)
            )
        return qs.order_by("-ingest_session__online", "mn")

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False):
            return ["ingest/live.html#table"]
        return [self.template_name]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = (
            super()
            .get_queryset()
            .aggregate(total=Count("pk"), online=Count("pk", filter=Q(ingest_session__online=True)))
        )
        context["counts"] = counts
        context["now"] = timezone.now()
        context["can_send"] = self.request.user.has_perm("ingest.send_command")
        if self.request.user.has_perm("ingest.view_gatewaystatus"):
            fresh = timezone.now() - timedelta(seconds=60)
            context["gateways"] = [
                (g, g.updated_at >= fresh and g.metrics.get("running", True))
                for g in GatewayStatus.objects.order_by("name")
            ]
        return context


class RawFrameListView(ScopedListView):
    model = RawFrame
    template_name = "ingest/rawframe_list.html"
    table_pagination = {"paginator_class": LazyPaginator}

    def get_filterset_class(self) -> Any:
        from totalcap.ingest.filtersets import RawFrameFilterSet

        return RawFrameFilterSet

    def get_table_class(self) -> Any:
        from totalcap.ingest.tables import RawFrameTable

        return RawFrameTable

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("logger")


class RawFrameDetailView(ScopedDetailView):
    """One frame: its bytes, the decoded header and CP, values per pollutant, and the warnings."""

    model = RawFrame
    template_name = "ingest/rawframe_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        raw = bytes(self.object.raw)
        context["text"] = raw.decode("utf-8", "replace")
        context["hex"] = " ".join(f"{b:02X}" for b in raw[:2048])
        try:
            frame = parse_frame(raw) if b"##" in raw else None
        except HJ212Error:
            frame = None
        context["frame"] = frame
        if frame is not None:
            context["header"] = frame.header.pairs
            context["plain"] = list(frame.cp.plain.items())
            context["subjects"] = list(frame.cp.subjects.items())
            context["parse_warnings"] = frame.warnings
            try:
                context["message"] = type(parse_message(frame)).__name__
            except HJ212Error as exc:
                context["message"] = f"— ({exc})"
        return context


class CommandDetailView(ScopedDetailView):
    model = Command
    template_name = "ingest/command_detail.html"
    detail_fields = (
        "logger", "name", "cn", "params", "state", "qn", "source", "requested_by_label", "requested_at", "expires_at",
        "overtime_seconds", "recount", "attempts", "sent_at", "last_sent_at", "accepted_at", "qn_rtn", "completed_at",
        "exe_rtn", "records", "result", "error", "gateway",
    )  # fmt: skip

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["actions"] = [t.action for t in COMMAND_LIFE_CYCLE.available(self.object, self.request.user)]
        frames = RawFrame.objects.restrict(self.request.user, "view").filter(
            logger_id=self.object.logger_id,
            qn=self.object.qn,
            received_at__gte=self.object.requested_at - timedelta(minutes=1),
        )
        context["frames"] = frames.order_by("received_at", "id")[:50]
        return context


class CommandListView(ScopedListView):
    model = Command
    template_name = "ingest/command_list.html"

    def get_filterset_class(self) -> Any:
        from totalcap.ingest.filtersets import CommandFilterSet

        return CommandFilterSet

    def get_table_class(self) -> Any:
        from totalcap.ingest.tables import CommandTable

        return CommandTable

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("logger")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_send"] = self.request.user.has_perm("ingest.send_command")
        return context


@login_required
def send_command(request: HttpRequest) -> HttpResponse:
    """The form to send a command to a logger in the user's scope."""
    if not request.user.has_perm("ingest.send_command"):
        raise PermissionDenied
    initial = {"logger": request.GET.get("logger"), "command": request.GET.get("command")}
    form = SendCommandForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        minutes = form.cleaned_data.get("expires_in_minutes")
        try:
            command = services.send_command(
                request.user,
                form.cleaned_data["logger"],
                form.cleaned_data["command"],
                form.cleaned_data["params"],
                expires_in=timedelta(minutes=minutes) if minutes else None,
                source="web",
            )
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error("params" if exc.field and exc.field not in form.fields else exc.field, exc.message)
        else:
            messages.success(
                request, "命令已提交，数采仪在线时立即发送（「已发送」不等于「已执行」，请关注执行结果）。"
            )
            return HttpResponseRedirect(command.get_absolute_url())
    specs = [(s, [(p.name, p.label, p.required) for p in s.params]) for s in SPECS]
    return render(request, "ingest/send_command.html", {"form": form, "specs": specs})


@require_POST
@login_required
def command_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not request.user.has_perm("ingest.view_command"):
        raise PermissionDenied
    command = get_object_or_404(Command.objects.restrict(request.user, "view"), pk=pk)
    if action != "cancel":
        raise PermissionDenied
    try:
        services.cancel_command(request.user, command)
        messages.success(request, "命令已撤销。")
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("ingest:command-detail", args=[pk]))


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text of every gateway that reported in the last minute (label ``gateway``).

    Needs ``ingest.view_gatewaystatus`` (a session, or ``Authorization: Token <key>`` for Prometheus).
    """
    from totalcap.accounts.authentication import ApiTokenAuthentication
    from totalcap.ingest.gateway.metrics import render

    user = request.user
    if not user.is_authenticated:
        try:
            found = ApiTokenAuthentication().authenticate(request)  # type: ignore[arg-type]
        except Exception:
            found = None
        if found is None:
            return HttpResponse("authentication required\n", status=401, content_type="text/plain")
        user = found[0]
    if not user.has_perm("ingest.view_gatewaystatus"):
        return HttpResponse("permission denied\n", status=403, content_type="text/plain")
    fresh = timezone.now() - timedelta(seconds=60)
    snapshots = [
        ({"gateway": g.name}, g.metrics)
        for g in GatewayStatus.objects.filter(updated_at__gte=fresh).order_by("name")
    ]
    body = render(snapshots)
    body += "# HELP totalcap_gateways_reporting Gateways with a snapshot younger than 60 s\n"
    body += f"# TYPE totalcap_gateways_reporting gauge\ntotalcap_gateways_reporting {len(snapshots)}\n"
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")


def command_specs() -> list[dict[str, Any]]:
    """The catalogue as JSON-able data (API and the send form)."""
    return [
        {
            "name": s.name, "cn": s.cn, "label": s.label, "kind": s.kind, "valve": s.valve, "requires": s.requires,
            "params": [{"name": p.name, "type": p.type, "label": p.label, "required": p.required,
                        "choices": list(p.choices)} for p in s.params],
        }
        for s in BY_NAME.values()
    ]  # fmt: skip
