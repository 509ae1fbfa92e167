"""Model pages that need more than the base views: accounting drill-down, review, manual data and
its import, suspicions, rule sets. Writes go through the monitoring services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from totalcap.base.exceptions import PermissionRefused, ServiceError
from totalcap.base.partitions import add_months
from totalcap.base.views import (
    ScopedCreateView,
    ScopedDeleteView,
    ScopedDetailView,
    ScopedListView,
    ScopedUpdateView,
)
from totalcap.monitoring.forms import (
    ManualImportForm,
    ManualMeasurementForm,
    PublishRuleSetForm,
    RevertForm,
    ReviewForm,
    SuspicionActionForm,
)
from totalcap.monitoring.models import (
    EmissionHour,
    EmissionTotal,
    HourValue,
    ManualMeasurement,
    ReviewAction,
    RuleSet,
    Sample,
    Suspicion,
)
from totalcap.monitoring.services import review as review_services
from totalcap.monitoring.services.context import BEIJING, beijing_day_start
from totalcap.monitoring.services.rules import publish_ruleset
from totalcap.monitoring.views.export import xlsx_response
from totalcap.monitoring.views.outlet import frame_url


class HourValueListView(ScopedListView):
    """The platform's hours (composite key: rows link to the hour drill-down)."""

    model = HourValue

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .select_related("outlet", "outlet__enterprise")
            .order_by("-data_time", "outlet_id")
        )


class SampleListView(ScopedListView):
    """Samples exactly as the loggers reported them."""

    model = Sample

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("outlet", "logger").order_by("-data_time")


class EmissionTotalDetailView(ScopedDetailView):
    """A total with its parts (months of a year, days of a month, hours of a day) and its versions."""

    model = EmissionTotal
    template_name = "monitoring/emission_total_detail.html"

    def parts(self) -> tuple[str, list[Any]]:
        total: EmissionTotal = self.object
        start = total.period_start
        if total.period == "year":
            rows = EmissionTotal.objects.filter(
                outlet_id=total.outlet_id, pollutant=total.pollutant, period="month",
                period_start__gte=start, period_start__lt=dt.date(start.year + 1, 1, 1),
            ).order_by("period_start")  # fmt: skip
            return "month", list(rows)
        if total.period == "month":
            rows = EmissionTotal.objects.filter(
                outlet_id=total.outlet_id, pollutant=total.pollutant, period="day", period_start__gte=start,
                period_start__lt=add_months(start, 1),
            ).order_by("period_start")  # fmt: skip
            return "day", list(rows)
        begin = beijing_day_start(start)
        hours = EmissionHour.objects.filter(
            outlet_id=total.outlet_id, pollutant=total.pollutant, data_time__gte=begin,
            data_time__lt=begin + dt.timedelta(days=1),
        ).order_by("data_time")  # fmt: skip
        return "hour", list(hours)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("_export") == "xlsx":
            self.object = self.get_object()
            kind, parts = self.parts()
            if kind == "hour":
                headers = [
                    "小时",
                    "排放量(kg)",
                    "核算方法",
                    "监测有效性",
                    "核算浓度",
                    "水量/气量(m³)",
                    "版本",
                ]
                rows = [[p.data_time, p.kg, p.get_method_display(), p.get_hour_status_display(), p.concentration,
                         p.volume_m3, p.version] for p in parts]  # fmt: skip
            else:
                headers = ["起始日期", "排放量(kg)", "主要核算方法", "有效数据捕集率", "有效小时", "替代小时", "手工小时",
                           "按直排小时", "停运小时", "无法核算小时", "版本"]  # fmt: skip
                rows = [[p.period_start, p.kg, p.get_method_display(), p.capture_rate, p.hours_auto_valid,
                         p.hours_auto_substituted, p.hours_manual, p.hours_penalised, p.hours_stopped,
                         p.hours_unaccounted, p.version] for p in parts]  # fmt: skip
            total = self.object
            return xlsx_response(
                f"排放量核算-{total.outlet_id}-{total.pollutant}-{total.period_start}.xlsx",
                [("明细", headers, rows)],
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        kind, parts = self.parts()
        context.update(part_kind=kind, parts=parts, revisions=self.object.revisions.order_by("-version"))
        if kind == "hour":
            from totalcap.monitoring.tables import hour_url

            context["hour_links"] = {
                p.data_time: hour_url(p.outlet_id, p.pollutant, p.data_time) for p in parts
            }
        return context


class ReviewCreateView(ScopedCreateView):
    """Mark values invalid or correct them (through the review service: event, recomputation)."""

    model = ReviewAction
    form_class = ReviewForm  # type: ignore[assignment]
    template_name = "monitoring/review_form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        return kwargs

    def form_valid(self, form: Any) -> HttpResponse:
        data = form.cleaned_data
        try:
            self.object = review_services.create_review(
                self.request.user, outlet=data["outlet"], kind=data["kind"], start=data["start"], end=data["end"],
                reason=data["reason"], level=data["level"],
                pollutant=data["pollutant"].code if data.get("pollutant") else None, value=data.get("value"),
                files=data.get("evidence") or [],
            )  # fmt: skip
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, "复核已保存，相关小时和核算结果已重新计算。")
        return HttpResponseRedirect(reverse("monitoring:reviewaction-detail", args=[self.object.pk]))


class ReviewDetailView(ScopedDetailView):
    model = ReviewAction
    template_name = "monitoring/review_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["evidence"] = self.object.evidence.all()
        context["revert_form"] = RevertForm()
        context["can_revert"] = self.object.status == "active" and self.request.user.has_perm(
            "monitoring.change_reviewaction"
        )
        return context


@require_POST
@login_required
def review_revert(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("monitoring.change_reviewaction"):
        raise PermissionDenied
    action = get_object_or_404(ReviewAction.objects.restrict(request.user, "view"), pk=pk)
    form = RevertForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写撤销理由。")
    else:
        try:
            review_services.revert_review(request.user, action, form.cleaned_data["reason"])
            messages.success(request, "复核已撤销，相关数据已恢复并重新核算。")
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("monitoring:reviewaction-detail", args=[action.pk]))


class SuspicionDetailView(ScopedDetailView):
    model = Suspicion
    template_name = "monitoring/suspicion_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        obj: Suspicion = self.object
        context["form"] = SuspicionActionForm()
        context["can_handle"] = obj.status == "open" and self.request.user.has_perm(
            "monitoring.change_suspicion"
        )
        local = obj.start.astimezone(BEIJING)
        context["calendar_url"] = (
            reverse("monitoring:outlet-calendar", args=[obj.outlet_id])
            + f"?month={local:%Y-%m}&pollutant={obj.pollutant}"
        )
        return context


@require_POST
@login_required
def suspicion_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if not request.user.has_perm("monitoring.change_suspicion"):
        raise PermissionDenied
    suspicion = get_object_or_404(Suspicion.objects.restrict(request.user, "view"), pk=pk)
    form = SuspicionActionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        review_services.handle_suspicion(request.user, suspicion, action, note)
        messages.success(request, "已处理。")
    except PermissionRefused as exc:
        raise PermissionDenied(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("monitoring:suspicion-detail", args=[suspicion.pk]))


class ManualSaveMixin:
    """Create and update manual results through the service (re-accounting of the covered hours)."""

    request: HttpRequest

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            self.object = review_services.save_manual(
                self.request.user, form.instance, write=lambda _o: form.save()
            )
        except PermissionRefused as exc:
            form.add_error("kind", exc.message)
            return self.form_invalid(form)  # type: ignore[attr-defined]
        except ServiceError as exc:
            form.add_error(exc.field, exc.message)
            return self.form_invalid(form)  # type: ignore[attr-defined]
        messages.success(self.request, "已保存，所代表时段将重新核算。")
        return HttpResponseRedirect(reverse("monitoring:manualmeasurement-detail", args=[self.object.pk]))


class ManualCreateView(ManualSaveMixin, ScopedCreateView):
    model = ManualMeasurement
    form_class = ManualMeasurementForm


class ManualUpdateView(ManualSaveMixin, ScopedUpdateView):
    model = ManualMeasurement
    form_class = ManualMeasurementForm


class ManualDeleteView(ScopedDeleteView):
    model = ManualMeasurement

    def form_valid(self, form: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            review_services.delete_manual(self.request.user, obj)
        except ServiceError as exc:
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(reverse("monitoring:manualmeasurement-detail", args=[obj.pk]))
        messages.success(self.request, "已删除。")
        return HttpResponseRedirect(reverse("monitoring:manualmeasurement-list"))


@login_required
def manual_import(request: HttpRequest) -> HttpResponse:
    """Upload an Excel workbook of manual results; nothing is stored unless every row is valid."""
    if not request.user.has_perm("monitoring.add_manualmeasurement"):
        raise PermissionDenied
    result = None
    form = ManualImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = review_services.import_manual_excel(request.user, upload.read(), upload.name)
        except ServiceError as exc:
            form.add_error("file", exc.message)
        else:
            if result.ok:
                messages.success(request, f"已导入 {result.created} 条手工监测数据，所代表时段将重新核算。")
                return HttpResponseRedirect(reverse("monitoring:manualmeasurement-list"))
    return render(request, "monitoring/manual_import.html", {"form": form, "result": result})


@login_required
def manual_template(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("monitoring.add_manualmeasurement"):
        raise PermissionDenied
    from totalcap.monitoring.views.export import XLSX

    response = HttpResponse(review_services.manual_template(), content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E6%89%8B%E5%B7%A5%E7%9B%91%E6%B5%8B%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


class RuleSetDetailView(ScopedDetailView):
    model = RuleSet
    template_name = "monitoring/ruleset_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        import json

        context = super().get_context_data(**kwargs)
        context["params_json"] = json.dumps(self.object.params, ensure_ascii=False, indent=2)
        context["versions"] = RuleSet.objects.filter(kind=self.object.kind, code=self.object.code).order_by(
            "-version"
        )
        context["can_publish"] = self.request.user.has_perm("monitoring.add_ruleset")
        return context


@login_required
def ruleset_publish(request: HttpRequest) -> HttpResponse:
    """Publish a new version of a rule set (pre-filled from ``?from=<id>``)."""
    import json

    if not request.user.has_perm("monitoring.add_ruleset"):
        raise PermissionDenied
    initial: dict[str, Any] = {}
    source = RuleSet.objects.filter(pk=request.GET.get("from") or 0).first()
    if source is not None:
        initial = {"kind": source.kind, "code": source.code, "name": source.name, "medium": source.medium,
                   "params": json.dumps(source.params, ensure_ascii=False, indent=2), "is_default": source.is_default,
                   "source": source.source}  # fmt: skip
    form = PublishRuleSetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ruleset = publish_ruleset(request.user, **form.cleaned_data)
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"已发布第 {ruleset.version} 版。")
            return HttpResponseRedirect(reverse("monitoring:ruleset-detail", args=[ruleset.pk]))
    return render(request, "monitoring/ruleset_publish.html", {"form": form})


__all__ = ["frame_url"]
