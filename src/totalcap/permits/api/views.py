"""Permits API: the scoped viewsets (writes through the services) and the calculator endpoints."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from totalcap.base.api import ScopedModelViewSet
from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.permits import filtersets as f
from totalcap.permits import schedule, services
from totalcap.permits.api import serializers as s
from totalcap.permits.calculator_views import worksheet_response
from totalcap.permits.models import (
    ExecutionReport,
    LimitCalculation,
    Permit,
    PermitItem,
    PermitVersion,
    Reminder,
    ReportRule,
    SpecialPeriodLimit,
)
from totalcap.registry.models import Outlet, Pollutant

READ = ["get", "head", "options"]


class PermitViewSet(ScopedModelViewSet):
    """排污许可证: list, read, open an application (POST), life-cycle actions, change / renewal /
    re-application — scoped to the caller's jurisdiction or enterprise."""

    model = Permit
    serializer_class = s.PermitSerializer
    filterset_class = f.PermitFilterSet
    http_method_names = [*READ, "post"]
    action_permissions = {"transition": "view", "change": "view", "renewal": "view", "reapply": "view"}

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("enterprise", "enterprise__jurisdiction")

    @extend_schema(request=s.ApplicationSerializer, responses=s.PermitSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ApplicationSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        permit = services.open_application(
            request.user,
            data.validated_data["enterprise"],
            management_class=data.validated_data.get("management_class") or None,
            reason=data.validated_data.get("reason", ""),
        )
        return Response(self.get_serializer(permit).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TransitionSerializer, responses=s.PermitSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: Any = None) -> Response:
        """Suspend, resume, revoke, withdraw the licence (吊销) or cancel (``{"action", "reason"}``)."""
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        permit = services.transition_permit(
            request.user,
            self.get_object(),
            data.validated_data["action"],
            {"reason": data.validated_data["reason"]},
        )
        return Response(self.get_serializer(permit).data)

    @extend_schema(request=s.ChangeSerializer, responses=s.PermitVersionSerializer)
    @action(detail=True, methods=["post"])
    def change(self, request: Request, pk: Any = None) -> Response:
        """Apply for a change: a new draft version copying the current contents."""
        data = s.ChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.start_change(
            request.user, self.get_object(), reason=data.validated_data["reason"],
            fact_date=data.validated_data["fact_date"],
            management_class=data.validated_data.get("management_class") or None,
        )  # fmt: skip
        return Response(s.PermitVersionSerializer(version, context={"request": request}).data, status=201)

    @extend_schema(request=s.ReasonSerializer, responses=s.PermitVersionSerializer)
    @action(detail=True, methods=["post"])
    def renewal(self, request: Request, pk: Any = None) -> Response:
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.start_renewal(
            request.user, self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(s.PermitVersionSerializer(version, context={"request": request}).data, status=201)

    @extend_schema(request=s.ReasonSerializer, responses=s.PermitVersionSerializer)
    @action(detail=True, methods=["post"])
    def reapply(self, request: Request, pk: Any = None) -> Response:
        data = s.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.start_reapplication(
            request.user, self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(s.PermitVersionSerializer(version, context={"request": request}).data, status=201)


class PermitVersionViewSet(ScopedModelViewSet):
    """许可证版本 (applications): read, life-cycle actions, differences between versions."""

    model = PermitVersion
    serializer_class = s.PermitVersionSerializer
    filterset_class = f.PermitVersionFilterSet
    http_method_names = [*READ, "post"]
    action_permissions = {"transition": "view", "diff": "view"}

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("permit", "permit__enterprise")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Versions come from applications: POST /permit/, /permit/{id}/change|renewal|reapply/."""
        raise MethodNotAllowed(
            "POST", detail="版本由申请、变更、延续或重新申请产生，请使用许可证的相应操作。"
        )

    @extend_schema(request=s.TransitionSerializer, responses=s.PermitVersionSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: Any = None) -> Response:
        """submit, withdraw, accept, register, refuse, return, start_review, approve, deny, issue."""
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.transition_version(
            request.user,
            self.get_object(),
            data.validated_data["action"],
            {"reason": data.validated_data["reason"]},
        )
        return Response(self.get_serializer(version).data)

    @extend_schema(
        parameters=[OpenApiParameter("against", int, description="比较的版本ID；缺省为上一核发版本")]
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, pk: Any = None) -> Response:
        version: PermitVersion = self.get_object()
        against_id = request.query_params.get("against")
        if against_id:
            against = get_object_or_404(version.permit.versions.exclude(pk=version.pk), pk=against_id)
        else:
            against = services.previous_issued(version)
        if against is None:
            return Response({"old": None, "new": version.number, "header": [], "items": [], "specials": []})
        old, new = (against, version) if against.number < version.number else (version, against)
        d = services.diff_versions(old, new)

        def rows(items: list[services.RowDiff]) -> list[dict[str, Any]]:
            return [
                {
                    "key": r.key,
                    "status": r.status,
                    "changes": [{"field": a, "old": b, "new": c} for a, b, c in r.changes],
                }
                for r in items
            ]

        return Response(
            {
                "old": old.number,
                "new": new.number,
                "header": [{"field": a, "old": b, "new": c} for a, b, c in d.header],
                "items": rows(d.items),
                "specials": rows(d.specials),
            }
        )


class VersionChildViewSet(ScopedModelViewSet):
    """Items and special-period limits: writes only while the version is editable by the caller."""

    saver: Any
    deleter: Any

    def _build(self, serializer: Any, instance: Model | None) -> Any:
        obj = instance if instance is not None else self.model()
        for key, value in serializer.validated_data.items():
            setattr(obj, key, value)
        return obj

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = type(self).saver(self.request.user, self._build(serializer, None))

    def perform_update(self, serializer: Any) -> None:
        instance = self.model._default_manager.get(pk=serializer.instance.pk)
        serializer.instance = type(self).saver(self.request.user, self._build(serializer, instance))

    def perform_destroy(self, instance: Model) -> None:
        type(self).deleter(self.request.user, instance)


class PermitItemViewSet(VersionChildViewSet):
    """许可排放限值 per outlet × pollutant."""

    model = PermitItem
    serializer_class = s.PermitItemSerializer
    filterset_class = f.PermitItemFilterSet
    saver = staticmethod(services.save_item)
    deleter = staticmethod(services.delete_item)

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("outlet", "pollutant")


class SpecialPeriodLimitViewSet(VersionChildViewSet):
    """特殊时段限值 (season, heavy-pollution alert level, dry / normal / wet season)."""

    model = SpecialPeriodLimit
    serializer_class = s.SpecialPeriodLimitSerializer
    filterset_class = f.SpecialPeriodLimitFilterSet
    saver = staticmethod(services.save_special)
    deleter = staticmethod(services.delete_special)


class ExecutionReportViewSet(ScopedModelViewSet):
    """执行报告: read, fill in (PATCH summary / all_compliant), submit, accept, return."""

    model = ExecutionReport
    serializer_class = s.ExecutionReportSerializer
    filterset_class = f.ExecutionReportFilterSet
    http_method_names = [*READ, "patch", "post"]
    action_permissions = {"transition": "view"}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reports are scheduled by the daily job from the report rules."""
        raise MethodNotAllowed("POST", detail="执行报告由系统按期限规则生成。")

    def perform_update(self, serializer: Any) -> None:
        schedule.save_report(self.request.user, serializer.instance, write=lambda _o: serializer.save())

    @extend_schema(request=s.TransitionSerializer, responses=s.ExecutionReportSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: Any = None) -> Response:
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = schedule.transition_report(
            request.user,
            self.get_object(),
            data.validated_data["action"],
            {"reason": data.validated_data["reason"]},
        )
        return Response(self.get_serializer(report).data)


class ReminderViewSet(ScopedModelViewSet):
    """许可提醒 raised by the daily job."""

    model = Reminder
    serializer_class = s.ReminderSerializer
    filterset_class = f.ReminderFilterSet
    http_method_names = READ


class LimitCalculationViewSet(ScopedModelViewSet):
    """限值核定记录: saved calculator runs; ``worksheet/?fmt=xlsx|pdf`` downloads the worksheet."""

    model = LimitCalculation
    serializer_class = s.LimitCalculationSerializer
    filterset_class = f.LimitCalculationFilterSet
    http_method_names = READ

    @extend_schema(parameters=[OpenApiParameter("fmt", str, enum=["xlsx", "pdf"])], responses={200: bytes})
    @action(detail=True, methods=["get"])
    def worksheet(self, request: Request, pk: Any = None) -> HttpResponse:
        calc: LimitCalculation = self.get_object()
        labels = {"enterprise": calc.enterprise.name, "outlet": calc.outlet.code if calc.outlet else "",
                  "pollutant": str(calc.pollutant or ""), "user": str(calc.created_by or "")}  # fmt: skip
        return worksheet_response(calc.result, labels, request.query_params.get("fmt", "xlsx"))


class ReportRuleViewSet(ScopedModelViewSet):
    """执行报告期限规则 (reference data; edited in the admin)."""

    model = ReportRule
    serializer_class = s.ReportRuleSerializer
    filterset_class = f.ReportRuleFilterSet
    http_method_names = READ


# --- the calculator ----------------------------------------------------------------------------


class CalculatorAPIView(APIView):
    """Base: authenticated and holding ``permits.view_limitcalculation`` (the calculator's permission)."""

    permission = "permits.view_limitcalculation"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not request.user.has_perm(self.permission):
            raise PermissionRefused("您没有使用限值核定计算器的权限。")


def _case(request: Request) -> dict[str, Any]:
    data = request.data
    if isinstance(data, dict) and isinstance(data.get("case"), dict):
        return dict(data["case"])
    if not isinstance(data, dict):
        raise ServiceError("输入应为JSON对象。", code="invalid_case", field="(input)")
    return dict(data)


class CalculatorComputeView(CalculatorAPIView):
    """POST the case (the CLI's JSON keys) → the result, or 400 naming the field."""

    @extend_schema(request=dict, responses=dict)
    def post(self, request: Request) -> Response:
        return Response(services.compute_case(_case(request)))


class CalculatorWorksheetAPIView(CalculatorAPIView):
    """POST the case → the worksheet (``?fmt=xlsx`` default, or ``pdf``)."""

    @extend_schema(
        request=dict, parameters=[OpenApiParameter("fmt", str, enum=["xlsx", "pdf"])], responses={200: bytes}
    )
    def post(self, request: Request) -> HttpResponse:
        result = services.compute_case(_case(request))
        return worksheet_response(
            result, {"user": request.user.get_username()}, request.query_params.get("fmt", "xlsx")
        )


class CalculatorStandardsView(CalculatorAPIView):
    """GET ``?outlet=<id>&pollutant=<code>`` → the candidate standards from the library, in precedence order."""

    @extend_schema(
        parameters=[
            OpenApiParameter("outlet", int, required=True),
            OpenApiParameter("pollutant", str, required=True),
        ],
        responses=dict,
    )
    def get(self, request: Request) -> Response:
        outlet = get_object_or_404(
            Outlet.objects.restrict(request.user, "view"), pk=request.query_params.get("outlet") or 0
        )
        pollutant = _pollutant(request.query_params.get("pollutant", ""))
        rows = services.calculator_standards(outlet, pollutant)
        return Response({"medium": outlet.medium, "standards": rows})


class CalculatorApplyView(CalculatorAPIView):
    """POST ``{"case": {...}, "version": id, "outlet": id, "pollutant": code}`` → the item, changed."""

    permission = "permits.add_limitcalculation"

    @extend_schema(request=s.ApplyCaseSerializer, responses=s.PermitItemSerializer)
    def post(self, request: Request) -> Response:
        data = s.ApplyCaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        version = get_object_or_404(
            PermitVersion.objects.restrict(user, "view"), pk=data.validated_data["version"]
        )
        outlet = get_object_or_404(Outlet.objects.restrict(user, "view"), pk=data.validated_data["outlet"])
        pollutant = _pollutant(data.validated_data["pollutant"])
        case = data.validated_data["case"]
        if not isinstance(case, dict):
            raise ServiceError("case 应为JSON对象。", code="invalid_case", field="case")
        item = services.apply_calculation(user, version, outlet, pollutant, case)
        return Response(s.PermitItemSerializer(item, context={"request": request}).data, status=200)


def _pollutant(value: Any) -> Pollutant:
    text = str(value or "").strip()
    qs = Pollutant.objects.all()
    found = qs.filter(pk=int(text)).first() if text.isdigit() else qs.filter(code__iexact=text).first()
    if found is None:
        raise ServiceError(f"未知的污染物「{text}」。", code="invalid", field="pollutant")
    return found
