"""Total-control pages. Lists and details come from :mod:`.resources`; the pages here carry the
use cases: the live board, proposals, plans, cards, transfers and valve orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.views import ScopedDetailView, TransitionActionView
from totalcap.quotas.board import board_rows
from totalcap.quotas.choices import AllocationMethod, PlanStatus, RegionTotalStatus
from totalcap.quotas.forms import (
    AllocationProposalForm,
    CardIssueForm,
    PeriodPlanForm,
    TransferForm,
    ValveOrderForm,
)
from totalcap.quotas.models import (
    AllocationPlan,
    Card,
    PeriodPlan,
    QuotaAccount,
    RegionTotal,
    SpecialPeriod,
    Transfer,
    ValveOrder,
)
from totalcap.quotas.services import cards, plans, totals, transfers, valves
from totalcap.quotas.services.basis import default_bases
from totalcap.registry.models import Enterprise


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("您没有执行此操作的权限。")


def _bind(service: Any, name: str, **fixed: Any) -> Any:
    """A TransitionActionView handler applying life-cycle action ``name`` through ``service``."""

    def handler(user: Any, obj: Any, params: dict[str, str]) -> Any:
        return service(user, obj, name, **{k: params.get(k, "") for k in fixed})

    return handler


def _actions(table: Any, obj: Any, user: Any, notes: set[str]) -> list[tuple[str, str, bool]]:
    return [(t.action, t.label, t.action in notes) for t in table.available(obj, user)]


# --- board ----------------------------------------------------------------------------------


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The live quota board (refreshes itself every 5 s without a reload)."""
    _need(request, "quotas.view_quotaaccount")
    year = int(request.GET["year"]) if request.GET.get("year", "").isdigit() else None
    month = int(request.GET["month"]) if request.GET.get("month", "").isdigit() else None
    year, month, rows = board_rows(request.user, year, month)
    template = "quotas/board.html#rows" if getattr(request, "htmx", False) else "quotas/board.html"
    return render(request, template, {"rows": rows, "year": year, "month": month})


# --- region totals and allocation -----------------------------------------------------------


class RegionTotalDetailView(ScopedDetailView):
    model = RegionTotal
    template_name = "quotas/regiontotal_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        total = self.object
        if total.status == RegionTotalStatus.ACTIVE:
            context["reserve"] = totals.reserve_account(total).balance
            context["allocated"] = totals.allocated(total)
        context["plans"] = total.plans.order_by("-created_at")
        context["can_activate"] = total.status == RegionTotalStatus.DRAFT and self.request.user.has_perm(
            "quotas.change_regiontotal"
        )
        return context


@login_required
def region_total_activate(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request, "quotas.change_regiontotal")
    total = get_object_or_404(RegionTotal.objects.restrict(request.user, "change"), pk=pk)
    if request.method == "POST":
        try:
            totals.activate(request.user, total)
            messages.success(request, "区域总量已下达到区域储备。")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return HttpResponseRedirect(total.get_absolute_url())


@login_required
def allocation_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a method; bases are pre-filled from history, permits or the ledger; edit and save."""
    _need(request, "quotas.add_allocationplan")
    total = get_object_or_404(RegionTotal.objects.restrict(request.user, "view"), pk=pk)
    method = request.POST.get("method") or request.GET.get("method") or AllocationMethod.HISTORY
    enterprises = list(
        Enterprise.objects.restrict(request.user, "view").filter(
            jurisdiction__path__startswith=total.jurisdiction.path
        )
    )
    bases = default_bases(total, method, enterprises)
    form = AllocationProposalForm(
        request.POST or None, user=request.user, enterprises=enterprises, bases={k: v for k, (v, _n) in bases.items()},
        initial={"method": method},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            plan = totals.propose(
                request.user,
                total,
                form.cleaned_data["method"],
                form.bases(),
                keep_reserve_pct=form.cleaned_data["keep_reserve_pct"],
            )
            messages.success(request, "分配方案已生成，请核定后批准。")
            return HttpResponseRedirect(reverse("quotas:allocationplan-detail", args=[plan.pk]))
        except ServiceError as exc:
            form.add_error(None, exc.message)
    notes = {k: n for k, (_v, n) in bases.items()}
    return render(
        request,
        "quotas/allocation_propose.html",
        {"form": form, "total": total, "notes": notes, "method": method},
    )


class AllocationPlanDetailView(ScopedDetailView):
    model = AllocationPlan
    template_name = "quotas/allocationplan_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan = self.object
        context["lines"] = plan.lines.select_related("enterprise").order_by("-final")
        context["sum_final"] = sum((ln.final for ln in context["lines"]), Decimal("0"))
        context["editable"] = plan.status == PlanStatus.DRAFT and self.request.user.has_perm(
            "quotas.change_allocationplan"
        )
        context["can_approve"] = plan.status == PlanStatus.DRAFT and self.request.user.has_perm(
            "quotas.approve_allocationplan"
        )
        return context


@login_required
def allocation_plan_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save edited final figures, and approve when asked."""
    _need(request, "quotas.change_allocationplan")
    plan = get_object_or_404(AllocationPlan.objects.restrict(request.user, "view"), pk=pk)
    if request.method != "POST":
        return HttpResponseRedirect(plan.get_absolute_url())
    try:
        for line in plan.lines.all():
            raw = request.POST.get(f"final_{line.pk}")
            if raw is not None and raw.strip() and Decimal(raw) != line.final:
                totals.edit_line(request.user, line, Decimal(raw))
        if "approve" in request.POST:
            totals.approve(request.user, plan)
            messages.success(request, "分配方案已批准，指标已转入各单位年度账户。")
        else:
            messages.success(request, "已保存。")
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except (ServiceError, ArithmeticError) as exc:
        messages.error(request, getattr(exc, "message", "核定分配量应为数字。"))
    return HttpResponseRedirect(plan.get_absolute_url())


# --- period plans ---------------------------------------------------------------------------


@login_required
def period_plan_create(request: HttpRequest) -> HttpResponse:
    _need(request, "quotas.add_periodplan")
    form = PeriodPlanForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        try:
            plan = plans.create_plan(
                request.user,
                form.cleaned_data["enterprise"],
                form.cleaned_data["pollutant"],
                form.cleaned_data["year"],
                form.months(),
                outlet=form.cleaned_data["outlet"],
                granularity=form.cleaned_data["granularity"],
            )
            return HttpResponseRedirect(plan.get_absolute_url())
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "quotas/form.html", {"form": form, "title": "编制排放计划"})


class PeriodPlanDetailView(ScopedDetailView):
    model = PeriodPlan
    template_name = "quotas/periodplan_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan = self.object
        lines = []
        for line in plan.lines.all():
            _planned, allowance = plans.effective_allowance(plan, line.month)
            lines.append((line, allowance))
        context["lines"] = lines
        context["total"] = plans.plan_total(plan)
        context["actions"] = _actions(plans.PLAN_LIFE_CYCLE, plan, self.request.user, {"reject"})
        context["action_url"] = f"/quotas/periodplan/{plan.pk}/action/"
        return context


class PeriodPlanActionView(TransitionActionView):
    model = PeriodPlan
    actions = {a: _bind(plans.transition_plan, a, note="") for a in ("submit", "approve", "reject")}


class SpecialPeriodDetailView(ScopedDetailView):
    model = SpecialPeriod
    template_name = "quotas/specialperiod_detail.html"


@login_required
def special_period_apply(request: HttpRequest, pk: int) -> HttpResponse:
    _need(request, "quotas.change_specialperiod")
    period = get_object_or_404(SpecialPeriod.objects.restrict(request.user, "change"), pk=pk)
    if request.method == "POST":
        touched = plans.apply_special_period(request.user, period)
        messages.success(request, f"已对 {len(touched)} 个已加载的月度配额执行削减。")
    return HttpResponseRedirect(period.get_absolute_url())


# --- cards ----------------------------------------------------------------------------------


@login_required
def card_issue(request: HttpRequest) -> HttpResponse:
    _need(request, "quotas.add_card")
    form = CardIssueForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        enterprise = form.cleaned_data["enterprise"]
        from totalcap.permits.choices import IN_FORCE
        from totalcap.permits.models import Permit

        permit = Permit.objects.filter(enterprise=enterprise, status__in=IN_FORCE).first()
        if permit is None:
            form.add_error("enterprise", "该单位没有有效的排污许可证，不能发卡（一企一证一卡）。")
        else:
            try:
                card = cards.issue_card(
                    request.user, enterprise, permit, form.cleaned_data["uid"], form.cleaned_data["note"]
                )
                return HttpResponseRedirect(card.get_absolute_url())
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "quotas/form.html", {"form": form, "title": "发放IC卡"})


class CardDetailView(ScopedDetailView):
    model = Card
    template_name = "quotas/card_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["actions"] = _actions(cards.CARD_LIFE_CYCLE, self.object, self.request.user, set())
        context["action_url"] = f"/quotas/card/{self.object.pk}/action/"
        context["swipes"] = self.object.swipes.order_by("-swiped_at")[:50]
        return context


class CardActionView(TransitionActionView):
    model = Card
    actions = {
        a: _bind(cards.card_action, a, new_uid="") for a in ("report_lost", "found", "replace", "revoke")
    }


# --- transfers ------------------------------------------------------------------------------


@login_required
def transfer_create(request: HttpRequest) -> HttpResponse:
    _need(request, "quotas.add_transfer")
    form = TransferForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = transfers.request_transfer(
                request.user,
                from_enterprise=data["from_enterprise"],
                to_enterprise=data["to_enterprise"],
                pollutant=data["pollutant"],
                year=data["year"],
                from_month=data["from_month"],
                to_month=data["to_month"],
                amount=data["amount"],
                reason=data["reason"],
                price=data["price"],
            )
            return HttpResponseRedirect(transfer.get_absolute_url())
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "quotas/form.html", {"form": form, "title": "申请配额调剂或转让"})


class TransferDetailView(ScopedDetailView):
    model = Transfer
    template_name = "quotas/transfer_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["actions"] = _actions(
            transfers.TRANSFER_LIFE_CYCLE, self.object, self.request.user, {"reject"}
        )
        context["action_url"] = f"/quotas/transfer/{self.object.pk}/action/"
        return context


class TransferActionView(TransitionActionView):
    model = Transfer
    actions = {a: _bind(transfers.review, a, note="") for a in ("approve", "reject")}


# --- valve orders ---------------------------------------------------------------------------


@login_required
def valve_order_create(request: HttpRequest) -> HttpResponse:
    _need(request, "quotas.request_valveorder")
    form = ValveOrderForm(request.POST or None, user=request.user, initial=request.GET.dict())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = valves.request_order(
                request.user, data["valve"], data["action"], data["reason"], origin=data["origin"]
            )
            messages.success(request, "阀门指令已提交，须由另一名有权限的监管人员审批后下发。")
            return HttpResponseRedirect(order.get_absolute_url())
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(request, "quotas/form.html", {"form": form, "title": "发起阀门指令"})


class ValveOrderDetailView(ScopedDetailView):
    model = ValveOrder
    template_name = "quotas/valveorder_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        order = self.object
        context["actions"] = _actions(
            valves.VALVE_ORDER_LIFE_CYCLE, order, self.request.user, {"reject", "cancel"}
        )
        context["action_url"] = f"/quotas/valveorder/{order.pk}/action/"
        from totalcap.quotas import devices

        context["command"] = devices.command_status(order.command_id) if order.command_id else None
        return context


class ValveOrderActionView(TransitionActionView):
    model = ValveOrder
    actions = {
        "approve": lambda user, obj, p: valves.approve(user, obj),
        "reject": lambda user, obj, p: valves.reject(user, obj, p.get("note", "")),
        "cancel": lambda user, obj, p: valves.cancel(user, obj, p.get("note", "")),
    }


class QuotaAccountDetailView(ScopedDetailView):
    model = QuotaAccount
    template_name = "quotas/account_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["entries"] = self.object.entries.select_related("transaction").order_by("-id")[:500]
        return context
