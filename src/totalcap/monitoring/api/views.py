"""Monitoring API: scoped lists of computed data, review / manual-data / suspicion / rule-set actions
through the services, and the outlet endpoints behind the charts, calendar, drill-down and rates.

Every queryset comes from ``Model.objects.restrict(user, action)`` (base viewsets) or, for the
outlet endpoints, from ``Outlet.objects.restrict`` after the permission check.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from totalcap.base.api import ScopedModelViewSet
from totalcap.base.exceptions import PermissionRefused
from totalcap.monitoring import filtersets as f
from totalcap.monitoring.api import serializers as s
from totalcap.monitoring.models import (
    EmissionHour,
    HourValue,
    ManualMeasurement,
    ReviewAction,
    RuleSet,
    Sample,
    Suspicion,
)
from totalcap.monitoring.services import accounting, pipeline, rates
from totalcap.monitoring.services import review as services
from totalcap.monitoring.services.context import BEIJING, load_contexts
from totalcap.monitoring.services.rules import publish_ruleset
from totalcap.monitoring.services.substitution import fill_concentrations
from totalcap.monitoring.views.outlet import CalendarView, HourDetailView
from totalcap.registry.models import Enterprise, Outlet, Pollutant


def _refuse(exc: PermissionRefused) -> PermissionDenied:
    return PermissionDenied(exc.message)


class ScopedListViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """List-only endpoint of a model without a single-column key (samples, hours)."""

    model: Any

    def scope_action(self) -> str:
        return "view"

    def get_queryset(self) -> Any:
        return self.model._default_manager.restrict(self.request.user, "view").select_related("outlet")


class SampleViewSet(ScopedListViewSet):
    """Samples as the loggers reported them; filter by outlet, kind, pollutant and time."""

    model = Sample
    serializer_class = s.SampleSerializer
    filterset_class = f.SampleFilterSet
    ordering = ["-data_time"]

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("-data_time")


class HourValueViewSet(ScopedListViewSet):
    """The platform's hourly values (with the logger's own hourly aggregate)."""

    model = HourValue
    serializer_class = s.HourValueSerializer
    filterset_class = f.HourValueFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("-data_time", "outlet_id", "pollutant")


class EmissionHourViewSet(ScopedListViewSet):
    """Accounted hourly amounts (current versions)."""

    model = EmissionHour
    serializer_class = s.EmissionHourSerializer
    filterset_class = f.EmissionHourFilterSet

    def get_queryset(self) -> Any:
        return super().get_queryset().order_by("-data_time", "outlet_id", "pollutant")


class ReviewActionViewSet(ScopedModelViewSet):
    """Review decisions: create (with evidence files) and revert through the review service."""

    model = ReviewAction
    serializer_class = s.ReviewActionSerializer
    filterset_class = f.ReviewActionFilterSet
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_permissions = {"revert": "change"}

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("evidence")

    @extend_schema(request=s.ReviewCreateSerializer, responses=s.ReviewActionSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ReviewCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        files = request.FILES.getlist("evidence") if hasattr(request, "FILES") else []
        try:
            created = services.create_review(
                request.user, outlet=v["outlet"], kind=v["kind"], start=v["start"], end=v["end"], reason=v["reason"],
                level=v["level"], pollutant=v.get("pollutant") or None, value=v.get("value"), files=files,
            )  # fmt: skip
        except PermissionRefused as exc:
            raise _refuse(exc) from exc
        return Response(
            s.ReviewActionSerializer(created, context=self.get_serializer_context()).data, status=201
        )

    @extend_schema(request=s.RevertSerializer, responses=s.ReviewActionSerializer)
    @action(detail=True, methods=["post"])
    def revert(self, request: Request, pk: str | None = None) -> Response:
        data = s.RevertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            reverted = services.revert_review(request.user, self.get_object(), data.validated_data["reason"])
        except PermissionRefused as exc:
            raise _refuse(exc) from exc
        return Response(s.ReviewActionSerializer(reverted, context=self.get_serializer_context()).data)


class ManualMeasurementViewSet(ScopedModelViewSet):
    """Manual monitoring results (writes re-account the hours they cover); Excel import and template."""

    model = ManualMeasurement
    serializer_class = s.ManualMeasurementSerializer
    filterset_class = f.ManualMeasurementFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_permissions = {"import_excel": "add", "template": "add"}

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("outlet")

    def perform_create(self, serializer: Any) -> None:
        try:
            services.save_manual(self.request.user, ManualMeasurement(**serializer.validated_data),
                                 write=lambda _o: serializer.save(created_by=self.request.user))  # fmt: skip
        except PermissionRefused as exc:
            raise _refuse(exc) from exc

    def perform_update(self, serializer: Any) -> None:
        try:
            services.save_manual(self.request.user, serializer.instance, write=lambda _o: serializer.save())
        except PermissionRefused as exc:
            raise _refuse(exc) from exc

    def perform_destroy(self, instance: Any) -> None:
        try:
            services.delete_manual(self.request.user, instance)
        except PermissionRefused as exc:
            raise _refuse(exc) from exc

    @extend_schema(request={"multipart/form-data": s.ImportSerializer}, responses=None)
    @action(detail=False, methods=["post"], url_path="import")
    def import_excel(self, request: Request) -> Response:
        data = s.ImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            result = services.import_manual_excel(request.user, upload.read(), upload.name)
        except PermissionRefused as exc:
            raise _refuse(exc) from exc
        if not result.ok:
            return Response({"code": "invalid", "detail": "导入失败，未保存任何数据。", "errors": {"rows": result.errors}},
                            status=400)  # fmt: skip
        return Response({"created": result.created}, status=201)

    @extend_schema(responses=None)
    @action(detail=False, methods=["get"])
    def template(self, request: Request) -> HttpResponse:
        from totalcap.monitoring.views.export import XLSX

        response = HttpResponse(services.manual_template(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="manual-template.xlsx"'
        return response


class SuspicionViewSet(ScopedModelViewSet):
    """Suspicions raised by screening; confirm or dismiss."""

    model = Suspicion
    serializer_class = s.SuspicionSerializer
    filterset_class = f.SuspicionFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"confirm": "change", "dismiss": "change", "create": "change"}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"code": "method_not_allowed", "detail": "可疑数据由筛查规则产生，不能直接创建。", "errors": {}},
                        status=405)  # fmt: skip

    def _handle(self, request: Request, verb: str) -> Response:
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            handled = services.handle_suspicion(
                request.user, self.get_object(), verb, data.validated_data.get("note", "")
            )
        except PermissionRefused as exc:
            raise _refuse(exc) from exc
        return Response(s.SuspicionSerializer(handled).data)

    @extend_schema(request=s.NoteSerializer, responses=s.SuspicionSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        return self._handle(request, "confirm")

    @extend_schema(request=s.NoteSerializer, responses=s.SuspicionSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._handle(request, "dismiss")


class RuleSetViewSet(ScopedModelViewSet):
    """Rule sets (versions are immutable); ``publish`` stores a new version."""

    model = RuleSet
    serializer_class = s.RuleSetSerializer
    filterset_class = f.RuleSetFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"publish": "add", "create": "add"}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._publish(request)

    @extend_schema(request=s.PublishSerializer, responses=s.RuleSetSerializer)
    @action(detail=False, methods=["post"])
    def publish(self, request: Request) -> Response:
        return self._publish(request)

    def _publish(self, request: Request) -> Response:
        data = s.PublishSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            ruleset = publish_ruleset(request.user, **data.validated_data)
        except PermissionRefused as exc:
            raise _refuse(exc) from exc
        return Response(s.RuleSetSerializer(ruleset).data, status=201)


# --- outlet endpoints ------------------------------------------------------------------------------


def _parse_moment(value: str | None, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError(
            {"time": [f"时间「{value}」格式不正确，应为 2026-10-14 或 2026-10-14T10:00。"]}
        ) from exc
    return parsed.replace(tzinfo=BEIJING) if parsed.tzinfo is None else parsed


class OutletAPIView(APIView):
    """Permission (403), then the outlet within scope (404)."""

    permission = "monitoring.view_hourvalue"

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)
        if not request.user.has_perm(self.permission):
            raise PermissionDenied("您没有查看监测数据的权限。")

    def outlet(self, request: Request, pk: int) -> Outlet:
        return get_object_or_404(
            Outlet.objects.restrict(request.user, None).select_related("enterprise"), pk=pk
        )


class SeriesView(OutletAPIView):
    """Chart data of one parameter: real-time (r), minute (m), hour (h) or day (d) values with their
    flags, validity, the converted value, substituted hours and the applicable limit."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str),
            OpenApiParameter("pollutant", str),
            OpenApiParameter("start", str),
            OpenApiParameter("end", str),
        ],
        responses=None,
    )
    def get(self, request: Request, pk: int) -> Response:
        outlet = self.outlet(request, pk)
        kind = request.query_params.get("kind", "h")
        code = request.query_params.get("pollutant", "")
        if kind not in ("r", "m", "h", "d"):
            raise ValidationError({"kind": ["数据类型应为 r、m、h 或 d。"]})
        now = dt.datetime.now(BEIJING)
        start = _parse_moment(request.query_params.get("start"), now - dt.timedelta(days=2))
        end = _parse_moment(request.query_params.get("end"), now)
        if end <= start or (end - start).days > (3 if kind in ("r", "m") else 400):
            raise ValidationError({"end": ["时间范围无效：实时/分钟数据最多3天，小时/日数据最多400天。"]})
        pollutant = Pollutant.objects.filter(code=code).first()
        ctx = load_contexts([outlet.pk])[outlet.pk]
        limit = ctx.limit(code)
        points: list[dict[str, Any]] = []
        if kind in ("r", "m"):
            rows = Sample.objects.filter(outlet_id=outlet.pk, kind=kind, pollutant=code, data_time__gte=start,
                                         data_time__lt=end).order_by("data_time")[:20000]  # fmt: skip
            points = [{"t": r.data_time.isoformat(), "v": _num(r.value), "zs": _num(r.zs_value), "flag": r.flag,
                       "frame": r.frame_id} for r in rows]  # fmt: skip
        elif kind == "h":
            methods = dict(
                EmissionHour.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time__gte=start, data_time__lt=end)
                .values_list("data_time", "method")
            )  # fmt: skip
            kgs = dict(
                EmissionHour.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time__gte=start, data_time__lt=end)
                .values_list("data_time", "kg")
            )  # fmt: skip
            filled = fill_concentrations(ctx, code, start, end)
            for h in HourValue.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time__gte=start,
                                              data_time__lt=end).order_by("data_time"):  # fmt: skip
                sub = filled.get(h.data_time)
                points.append({
                    "t": h.data_time.isoformat(), "v": _num(h.value), "zs": _num(h.zs_value), "flag": h.label,
                    "agg_flag": h.agg_flag, "status": h.status, "logger": _num(h.logger_value), "mismatch": h.mismatch,
                    "over_limit": h.over_limit, "kg": _num(kgs.get(h.data_time)),
                    "substituted": methods.get(h.data_time) == "auto_substituted",
                    "filled": _num(sub.concentration) if sub else None,
                })  # fmt: skip
        else:
            from totalcap.monitoring.models import DayValue

            for d in DayValue.objects.filter(outlet_id=outlet.pk, pollutant=code, day__gte=start.date(),
                                             day__lt=end.date()).order_by("day"):  # fmt: skip
                points.append({"t": d.day.isoformat(), "v": _num(d.value), "zs": _num(d.zs_value), "flag": d.agg_flag,
                               "status": d.status, "logger": _num(d.logger_value), "mismatch": d.mismatch,
                               "over_limit": d.over_limit, "kg": _num(d.amount_kg)})  # fmt: skip
        return Response({
            "outlet": outlet.pk, "kind": kind,
            "pollutant": {"code": code, "name": pollutant.name if pollutant else code,
                          "unit": pollutant.concentration_unit if pollutant else ""},
            "limit": {"value": _num(limit.value), "averaging": limit.averaging, "reference_o2": _num(limit.reference_o2)},
            "points": points,
        })  # fmt: skip


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


class CalendarAPIView(OutletAPIView):
    """A month of hours (days × 24) with validity, label and accounting method."""

    def get(self, request: Request, pk: int) -> Response:
        self.outlet(request, pk)
        view = CalendarView()
        view.request = request._request
        view.kwargs = {"pk": pk}
        outlet, code, month, days, _p = view.grid()
        return Response({
            "outlet": outlet.pk, "pollutant": code, "month": month.isoformat(),
            "days": [{"day": d["day"].isoformat(),
                      "hours": [{"status": c["status"], "label": c["label"], "method": c["method"]} for c in d["cells"]]}
                     for d in days],
        })  # fmt: skip


class HourDetailAPIView(OutletAPIView):
    """One hour drilled down to its minutes and raw frames."""

    def get(self, request: Request, pk: int, pollutant: str, hour: str) -> Response:
        self.outlet(request, pk)
        view = HourDetailView()
        view.request = request._request
        view.kwargs = {"pk": pk, "pollutant": pollutant, "hour": hour}
        data = view.data()
        h = data["hour"]
        return Response({
            "outlet": pk, "pollutant": pollutant, "hour": data["moment"].isoformat(),
            "value": s.HourValueSerializer(h).data if h else None,
            "accounted": s.EmissionHourSerializer(data["accounted"]).data if data["accounted"] else None,
            "versions": s.EmissionHourLogSerializer(data["versions"], many=True).data,
            "substitution": s.SubstitutionSerializer(data["substitution"]).data if data["substitution"] else None,
            "minutes": [{"t": m["data_time"].isoformat(), "raw": _num(m["raw_value"]), "value": _num(m["value"]),
                         "flag": m["flag"], "class": m["cls"], "label": m["label"], "frame_id": m["frame_id"],
                         "frame_url": m["frame_url"]} for m in data["minutes"]],
            "reviews": s.ReviewActionSerializer(data["reviews"], many=True).data,
        })  # fmt: skip


class RecomputeView(OutletAPIView):
    """Recompute an outlet's hours after a change of its settings or rules (new versions where the
    results differ)."""

    permission = "monitoring.change_outletmonitoringconfig"

    @extend_schema(request=s.RangeSerializer, responses=None)
    def post(self, request: Request, pk: int) -> Response:
        outlet = self.outlet(request, pk)
        data = s.RangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = pipeline.recompute(
            [outlet.pk], data.validated_data["start"], data.validated_data["end"], cause="manual recompute",
            actor=request.user,
        )  # fmt: skip
        return Response(report.as_dict())


class RatesAPIView(APIView):
    """Capture and transmission rates of the outlets and enterprises in scope for a month."""

    def get(self, request: Request) -> Response:
        if not request.user.has_perm("monitoring.view_dayvalue"):
            raise PermissionDenied("您没有查看监测数据的权限。")
        try:
            month = dt.date.fromisoformat((request.query_params.get("month") or "") + "-01")
        except ValueError:
            month = dt.datetime.now(BEIJING).date().replace(day=1)
        level = request.query_params.get("level", "outlet")
        if level == "enterprise":
            ids = list(Enterprise.objects.restrict(request.user, None).values_list("pk", flat=True))
            found = rates.enterprise_rates(ids, month)
        else:
            ids = list(Outlet.objects.restrict(request.user, None).values_list("pk", flat=True))
            found = rates.outlet_rates(ids, month, by_pollutant=request.query_params.get("by") == "pollutant")
        return Response({
            "month": month.isoformat(), "level": level,
            "results": [{"id": r.key, "pollutant": r.pollutant, "hours_expected": r.hours_expected,
                         "hours_received": r.hours_received, "hours_valid": r.hours_valid,
                         "hours_stopped": r.hours_stopped, "hours_process": r.hours_process,
                         "capture_rate": _num(r.capture_rate), "transmission_rate": _num(r.transmission_rate)}
                        for r in found],
        })  # fmt: skip


class AmountsView(OutletAPIView):
    """Current accounted hourly amounts of one pollutant (what the quota ledger consumes)."""

    permission = "monitoring.view_emissionhour"

    def get(self, request: Request, pk: int) -> Response:
        outlet = self.outlet(request, pk)
        now = dt.datetime.now(BEIJING)
        start = _parse_moment(request.query_params.get("start"), now - dt.timedelta(days=1))
        end = _parse_moment(request.query_params.get("end"), now)
        amounts = accounting.hourly_amounts(outlet, request.query_params.get("pollutant", ""), start, end)
        return Response([{"t": a.data_time.isoformat(), "kg": _num(a.kg), "method": a.method, "version": a.version,
                          "hour_status": a.hour_status} for a in amounts])  # fmt: skip


class IncrementsView(APIView):
    """Committed hour versions after ``after`` (a log id), in commit order, for the outlets in scope."""

    def get(self, request: Request) -> Response:
        if not request.user.has_perm("monitoring.view_emissionhourlog"):
            raise PermissionDenied("您没有查看核算数据的权限。")
        try:
            after = int(request.query_params.get("after", "0"))
            limit = min(int(request.query_params.get("limit", "1000")), 10000)
        except ValueError as exc:
            raise ValidationError({"after": ["应为整数。"]}) from exc
        outlets = list(Outlet.objects.restrict(request.user, None).values_list("pk", flat=True))
        rows = accounting.increments_since(after, limit=limit, outlet_ids=outlets)
        return Response([{"id": r.log_id, "outlet": r.outlet_id, "pollutant": r.pollutant, "t": r.data_time.isoformat(),
                          "version": r.version, "kg": _num(r.kg), "delta_kg": _num(r.delta_kg), "method": r.method}
                         for r in rows])  # fmt: skip
