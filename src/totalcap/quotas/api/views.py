"""Total-control API. Reads are scoped viewsets; writes call the services (never the ORM)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from totalcap.base.api import ScopedModelViewSet
from totalcap.base.exceptions import PermissionRefused
from totalcap.quotas import filtersets as f
from totalcap.quotas.api import serializers as s
from totalcap.quotas.board import board_rows
from totalcap.quotas.choices import SwipeChannel
from totalcap.quotas.models import (
    AllocationLine,
    AllocationPlan,
    Card,
    CardSwipe,
    PeriodPlan,
    QuotaAccount,
    RegionTotal,
    Settlement,
    SpecialPeriod,
    Transfer,
    ValveOrder,
)
from totalcap.quotas.services import cards, plans, totals, transfers, valves
from totalcap.registry.models import DataLogger, Enterprise, Outlet, Pollutant, Valve


def _visible(model: Any, user: Any, pk: Any, action: str = "view") -> Any:
    obj = model._default_manager.restrict(user, action).filter(pk=pk).first()
    if obj is None:
        raise ValidationError({"id": [f"{model._meta.verbose_name}「{pk}」不存在或不在您的管辖范围内。"]})
    return obj


def _perm(user: Any, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限。")


class RegionTotalViewSet(ScopedModelViewSet):
    """Region totals (CRUD while draft) and `activate` (issue the total into the region's reserve)."""

    model = RegionTotal
    serializer_class = s.RegionTotalSerializer
    filterset_class = f.RegionTotalFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_permissions = {"activate": "change"}

    @extend_schema(request=None, responses=s.RegionTotalSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, pk: str | None = None) -> Response:
        total = totals.activate(request.user, self.get_object())
        return Response(s.RegionTotalSerializer(total, context=self.get_serializer_context()).data)


class AllocationPlanViewSet(ScopedModelViewSet):
    """Allocation proposals: `create` computes lines by a method; `lines` edits final figures; `approve`."""

    model = AllocationPlan
    serializer_class = s.AllocationPlanSerializer
    filterset_class = f.AllocationPlanFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"approve": "view", "lines": "change"}

    @extend_schema(request=s.ProposalInput, responses=s.AllocationPlanSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ProposalInput(data=request.data)
        data.is_valid(raise_exception=True)
        total = _visible(RegionTotal, request.user, data.validated_data["region_total"])
        bases = {int(k): (v, "") for k, v in data.validated_data["bases"].items()}
        plan = totals.propose(request.user, total, data.validated_data["method"], bases,
                              keep_reserve_pct=data.validated_data["keep_reserve_pct"])  # fmt: skip
        return Response(s.AllocationPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.LineEditInput, responses=s.AllocationPlanSerializer)
    @action(detail=True, methods=["post"])
    def lines(self, request: Request, pk: str | None = None) -> Response:
        plan = self.get_object()
        data = s.LineEditInput(data=request.data)
        data.is_valid(raise_exception=True)
        line = get_object_or_404(AllocationLine, pk=data.validated_data["line"], plan=plan)
        totals.edit_line(request.user, line, data.validated_data["final"])
        return Response(s.AllocationPlanSerializer(AllocationPlan.objects.get(pk=plan.pk)).data)

    @extend_schema(request=None, responses=s.AllocationPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        plan = totals.approve(request.user, self.get_object())
        return Response(s.AllocationPlanSerializer(plan).data)


class PeriodPlanViewSet(ScopedModelViewSet):
    """Period plans: `create` (annual split evenly, or 12 months), then `submit`, `approve`, `reject`."""

    model = PeriodPlan
    serializer_class = s.PeriodPlanSerializer
    filterset_class = f.PeriodPlanFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"submit": "view", "approve": "view", "reject": "view"}

    @extend_schema(request=s.PeriodPlanInput, responses=s.PeriodPlanSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.PeriodPlanInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        enterprise = _visible(Enterprise, request.user, v["enterprise"])
        outlet = _visible(Outlet, request.user, v["outlet"]) if v.get("outlet") else None
        pollutant = Pollutant.objects.filter(code=v["pollutant"]).first()
        if pollutant is None:
            raise ValidationError({"pollutant": [f"未知的污染物编码「{v['pollutant']}」。"]})
        months = plans.even_split(v["annual"], v["granularity"]) if v.get("annual") is not None else {
            int(k): val for k, val in v["months"].items()
        }  # fmt: skip
        plan = plans.create_plan(request.user, enterprise, pollutant, v["year"], months, outlet=outlet,
                                 granularity=v["granularity"])  # fmt: skip
        return Response(s.PeriodPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def _transition(self, request: Request, name: str) -> Response:
        note = s.NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        plan = plans.transition_plan(request.user, self.get_object(), name, note.validated_data["note"])
        return Response(s.PeriodPlanSerializer(plan).data)

    @extend_schema(request=s.NoteInput, responses=s.PeriodPlanSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "submit")

    @extend_schema(request=s.NoteInput, responses=s.PeriodPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "approve")

    @extend_schema(request=s.NoteInput, responses=s.PeriodPlanSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, "reject")


class SpecialPeriodViewSet(ScopedModelViewSet):
    """Special periods (heavy-pollution alerts, dry season); `apply` lowers already-loaded quotas."""

    model = SpecialPeriod
    serializer_class = s.SpecialPeriodSerializer
    filterset_class = f.SpecialPeriodFilterSet
    action_permissions = {"apply": "change"}

    @extend_schema(request=None, responses=s.QuotaAccountSerializer(many=True))
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        touched = plans.apply_special_period(request.user, self.get_object())
        return Response(s.QuotaAccountSerializer(touched, many=True).data)


class QuotaAccountViewSet(ScopedModelViewSet):
    """Ledger accounts with cached balances; `entries` lists an account's ledger entries."""

    model = QuotaAccount
    serializer_class = s.QuotaAccountSerializer
    filterset_class = f.QuotaAccountFilterSet
    http_method_names = ["get", "head", "options"]
    action_permissions = {"entries": "view"}

    @extend_schema(responses=s.LedgerEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def entries(self, request: Request, pk: str | None = None) -> Response:
        acc = self.get_object()
        page = self.paginate_queryset(acc.entries.select_related("transaction").order_by("-id"))
        return self.get_paginated_response(s.LedgerEntrySerializer(page, many=True).data)


class CardViewSet(ScopedModelViewSet):
    """Cards: `create` issues one (one enterprise, one permit, one card); life-cycle actions."""

    model = Card
    serializer_class = s.CardSerializer
    filterset_class = f.CardFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"report_lost": "view", "found": "view", "replace": "view", "revoke": "view"}

    @extend_schema(request=s.CardIssueInput, responses=s.CardSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from totalcap.permits.models import Permit

        data = s.CardIssueInput(data=request.data)
        data.is_valid(raise_exception=True)
        enterprise = _visible(Enterprise, request.user, data.validated_data["enterprise"])
        permit = Permit.objects.filter(pk=data.validated_data["permit"], enterprise=enterprise).first()
        if permit is None:
            raise ValidationError({"permit": ["排污许可证不存在或不属于该单位。"]})
        card = cards.issue_card(
            request.user, enterprise, permit, data.validated_data["uid"], data.validated_data["note"]
        )
        return Response(s.CardSerializer(card).data, status=status.HTTP_201_CREATED)

    def _act(self, request: Request, name: str) -> Response:
        data = s.CardActionInput(data=request.data)
        data.is_valid(raise_exception=True)
        card = cards.card_action(
            request.user, self.get_object(), name, new_uid=data.validated_data["new_uid"]
        )
        return Response(s.CardSerializer(card).data)

    @extend_schema(request=None, responses=s.CardSerializer)
    @action(detail=True, methods=["post"], url_path="report-lost")
    def report_lost(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "report_lost")

    @extend_schema(request=None, responses=s.CardSerializer)
    @action(detail=True, methods=["post"])
    def found(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "found")

    @extend_schema(request=s.CardActionInput, responses=s.CardSerializer)
    @action(detail=True, methods=["post"])
    def replace(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "replace")

    @extend_schema(request=None, responses=s.CardSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        return self._act(request, "revoke")


class CardSwipeViewSet(ScopedModelViewSet):
    model = CardSwipe
    serializer_class = s.CardSwipeSerializer
    filterset_class = f.CardSwipeFilterSet
    http_method_names = ["get", "head", "options"]


class SwipeView(APIView):
    """A swipe through the REST API: a logger with its device token (the logger is the token's), or
    an authorised user naming the logger. Loads this month's approved quota once; returns the
    remaining allowance."""

    @extend_schema(request=s.SwipeInput, responses=s.CardSwipeSerializer)
    def post(self, request: Request) -> Response:
        data = s.SwipeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        device_logger = getattr(user, "logger_id", None)
        if device_logger:
            logger = DataLogger.objects.select_related("outlet__enterprise").get(pk=device_logger)
        else:
            _perm(user, "quotas.add_cardswipe")
            pk = data.validated_data.get("logger")
            if pk is None:
                raise ValidationError({"logger": ["请指定数采仪。"]})
            logger = (
                DataLogger.objects.restrict(user, "view")
                .filter(pk=pk)
                .select_related("outlet__enterprise")
                .first()
            )
            if logger is None:
                raise NotFound("数采仪不存在或不在您的管辖范围内。")
        result = cards.swipe(
            user, logger, data.validated_data["card_uid"], at=data.validated_data.get("swiped_at") or timezone.now(),
            channel=SwipeChannel.API,
        )  # fmt: skip
        code = status.HTTP_200_OK if result.accepted else status.HTTP_409_CONFLICT
        return Response(s.CardSwipeSerializer(result.swipe).data, status=code)


class TransferViewSet(ScopedModelViewSet):
    """Adjustments within one enterprise's year and transfers between enterprises; `approve` / `reject`."""

    model = Transfer
    serializer_class = s.TransferSerializer
    filterset_class = f.TransferFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"approve": "view", "reject": "view"}

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.TransferSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        v = data.validated_data
        transfer = transfers.request_transfer(
            request.user, from_enterprise=v["from_enterprise"], to_enterprise=v["to_enterprise"], pollutant=v["pollutant"],
            year=v["year"], from_month=v.get("from_month"), to_month=v["to_month"], amount=v["amount"], reason=v["reason"],
            price=v.get("price"),
        )  # fmt: skip
        return Response(s.TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.NoteInput, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        note = s.NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        return Response(
            s.TransferSerializer(
                transfers.review(request.user, self.get_object(), "approve", note.validated_data["note"])
            ).data
        )

    @extend_schema(request=s.NoteInput, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        note = s.NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        return Response(
            s.TransferSerializer(
                transfers.review(request.user, self.get_object(), "reject", note.validated_data["note"])
            ).data
        )


class ValveOrderViewSet(ScopedModelViewSet):
    """Valve orders: `create` a manual order (needs a second regulator), `approve`, `reject`, `cancel`."""

    model = ValveOrder
    serializer_class = s.ValveOrderSerializer
    filterset_class = f.ValveOrderFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"create": "view", "approve": "view", "reject": "view", "cancel": "view"}

    @extend_schema(request=s.ValveOrderInput, responses=s.ValveOrderSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.ValveOrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        valve = Valve.objects.restrict(request.user, "view").filter(pk=data.validated_data["valve"]).first()
        if valve is None:
            raise ValidationError({"valve": ["阀门不存在或不在您的管辖范围内。"]})
        try:
            order = valves.request_order(request.user, valve, data.validated_data["action"], data.validated_data["reason"],
                                         origin=data.validated_data["origin"])  # fmt: skip
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        return Response(s.ValveOrderSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ValveOrderSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return Response(s.ValveOrderSerializer(valves.approve(request.user, self.get_object())).data)

    @extend_schema(request=s.NoteInput, responses=s.ValveOrderSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        note = s.NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        return Response(
            s.ValveOrderSerializer(
                valves.reject(request.user, self.get_object(), note.validated_data["note"])
            ).data
        )

    @extend_schema(request=s.NoteInput, responses=s.ValveOrderSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        note = s.NoteInput(data=request.data)
        note.is_valid(raise_exception=True)
        return Response(
            s.ValveOrderSerializer(
                valves.cancel(request.user, self.get_object(), note.validated_data["note"])
            ).data
        )


class SettlementViewSet(ScopedModelViewSet):
    model = Settlement
    serializer_class = s.SettlementSerializer
    filterset_class = f.SettlementFilterSet
    http_method_names = ["get", "head", "options"]


class BoardView(APIView):
    """The live quota board as JSON: each monthly account in scope with allowance, used, remaining."""

    def get(self, request: Request) -> Response:
        _perm(request.user, "quotas.view_quotaaccount")
        year = int(request.query_params["year"]) if request.query_params.get("year", "").isdigit() else None
        month = (
            int(request.query_params["month"]) if request.query_params.get("month", "").isdigit() else None
        )
        year, month, rows = board_rows(request.user, year, month)
        return Response({
            "year": year, "month": month,
            "accounts": [{
                "account": r.account.pk, "enterprise": r.account.enterprise_id,
                "enterprise_name": r.account.enterprise.name if r.account.enterprise else "",
                "outlet": r.account.outlet_id, "pollutant": r.account.pollutant.code, "unit": r.account.unit,
                "allowance": str(r.allowance), "used": str(r.used), "remaining": str(r.remaining),
                "percent": str(r.percent), "level": r.account.alert_level,
                "valves": [{"id": v.pk, "code": v.code, "state": v.state} for v in r.valves],
            } for r in rows],
        })  # fmt: skip
