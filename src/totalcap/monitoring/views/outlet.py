"""Outlet-centred monitoring pages: overview, charts, month calendar, hour drill-down, rates.

Every page checks the monitoring permission (403) and finds the outlet through
``Outlet.objects.restrict`` (404 outside the user's jurisdiction or enterprise).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.views.generic import TemplateView

from totalcap.base.partitions import add_months
from totalcap.monitoring.choices import HOUR_LABELS, Method, ValueStatus
from totalcap.monitoring.forms import MonthForm, ReviewForm
from totalcap.monitoring.models import (
    DeviceState,
    EmissionHour,
    EmissionHourLog,
    HourValue,
    ReviewAction,
    Sample,
    Substitution,
    Suspicion,
)
from totalcap.monitoring.services import rates
from totalcap.monitoring.services.context import BEIJING, beijing_day_start, load_contexts
from totalcap.monitoring.services.hours import classify_minutes
from totalcap.monitoring.views.export import xlsx_response
from totalcap.registry.models import Enterprise, Outlet, Pollutant

HOUR = dt.timedelta(hours=1)
CELL_CLASS = {"v": "tc-valid", "s": "tc-stopped", "p": "tc-process", "i": "tc-invalid", "m": "tc-missing"}


def frame_url(frame_id: int | None) -> str | None:
    """The gateway's raw-frame page of ``frame_id``."""
    if frame_id is None:
        return None
    try:
        return reverse("ingest:rawframe-detail", args=[frame_id])
    except NoReverseMatch:  # pragma: no cover - the ingest app always provides it
        return f"/ingest/rawframe/{frame_id}/"


def today_beijing() -> dt.date:
    return dt.datetime.now(BEIJING).date()


class MonitoringPage(LoginRequiredMixin, TemplateView):
    """Login, then the page's permission (403), then the outlet within scope (404)."""

    permission = "monitoring.view_hourvalue"
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_perm(self.permission):
            raise PermissionDenied("您没有查看监测数据的权限。")
        return super().dispatch(request, *args, **kwargs)

    def outlets(self) -> Any:
        return Outlet.objects.restrict(self.request.user, None).select_related("enterprise")

    def get_outlet(self) -> Outlet:
        return get_object_or_404(self.outlets(), pk=self.kwargs["pk"])

    def month(self) -> dt.date:
        return MonthForm(self.request.GET).month_or(today_beijing())

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get("_export") == "xlsx":
            return self.export()
        return super().get(request, *args, **kwargs)

    def export(self) -> HttpResponse:
        raise Http404


def pollutants_of(outlet: Outlet) -> list[Pollutant]:
    """The outlet's monitored parameters (logger configuration plus codes seen in the last 31 days)."""
    codes = set(
        Pollutant.objects.filter(datalogger__outlet=outlet).values_list("code", flat=True)
    ) | set(
        HourValue.objects.filter(
            outlet_id=outlet.pk, data_time__gte=dt.datetime.now(BEIJING) - dt.timedelta(days=31)
        ).exclude(source="x").values_list("pollutant", flat=True).distinct()
    )  # fmt: skip
    known = {p.code: p for p in Pollutant.objects.filter(code__in=codes)}
    return [known.get(c) or Pollutant(code=c, name=c) for c in sorted(codes)]


class OutletOverviewView(MonitoringPage):
    """Outlets in scope with their latest hour, this month's capture rate and open suspicions."""

    template_name = "monitoring/outlet_list.html"

    def rows(self) -> list[dict[str, Any]]:
        outlets = list(self.outlets().order_by("enterprise__name", "code"))
        ids = [o.pk for o in outlets]
        latest = dict(
            HourValue.objects.filter(outlet_id__in=ids)
            .exclude(source="x")
            .values("outlet_id")
            .annotate(last=Max("data_time"))
            .values_list("outlet_id", "last")
        )
        month_rates = {r.key: r for r in rates.outlet_rates(ids, self.month())}
        open_counts = dict(
            Suspicion.objects.filter(outlet_id__in=ids, status="open")
            .values("outlet_id")
            .annotate(n=Count("pk"))
            .values_list("outlet_id", "n")
        )
        return [
            {
                "outlet": o,
                "latest": latest.get(o.pk),
                "rate": month_rates.get(o.pk),
                "open": open_counts.get(o.pk, 0),
            }
            for o in outlets
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(rows=self.rows(), month=self.month())
        return context

    def export(self) -> HttpResponse:
        rows = [
            [r["outlet"].enterprise.name, r["outlet"].code, r["outlet"].name, r["outlet"].get_medium_display(),
             r["latest"], r["rate"].capture_rate if r["rate"] else None,
             r["rate"].transmission_rate if r["rate"] else None, r["open"]]
            for r in self.rows()
        ]  # fmt: skip
        headers = [
            "排污单位",
            "排放口编码",
            "排放口名称",
            "类型",
            "最新小时数据",
            "有效数据捕集率",
            "传输率",
            "待核实可疑数据",
        ]
        return xlsx_response(f"在线监测排放口{self.month():%Y%m}.xlsx", [("排放口", headers, rows)])


class OutletMonitoringView(MonitoringPage):
    """Charts of an outlet's real-time, minute, hour and day data (ECharts, data from the API)."""

    template_name = "monitoring/outlet.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        outlet = self.get_outlet()
        today = today_beijing()
        context.update(
            outlet=outlet,
            pollutants=pollutants_of(outlet),
            start=(today - dt.timedelta(days=2)).isoformat(),
            end=(today + dt.timedelta(days=1)).isoformat(),
            open_suspicions=Suspicion.objects.filter(outlet=outlet, status="open").count(),
            reviews=ReviewAction.objects.filter(outlet=outlet).order_by("-created_at")[:10],
            month=today.replace(day=1),
        )
        return context


class CalendarView(MonitoringPage):
    """A month of hours (days × 24) coloured by validity, with substituted hours marked."""

    template_name = "monitoring/calendar.html"

    def grid(self) -> tuple[Outlet, str, dt.date, list[dict[str, Any]], list[Pollutant]]:
        outlet = self.get_outlet()
        pollutants = pollutants_of(outlet)
        code = self.request.GET.get("pollutant") or next(
            (p.code for p in pollutants if p.is_total_control), pollutants[0].code if pollutants else ""
        )
        month = self.month()
        start, end = beijing_day_start(month), beijing_day_start(add_months(month, 1))
        hours = {
            h.data_time: h
            for h in HourValue.objects.filter(
                outlet_id=outlet.pk, pollutant=code, data_time__gte=start, data_time__lt=end
            )
        }
        methods = dict(
            EmissionHour.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time__gte=start, data_time__lt=end)
            .values_list("data_time", "method")
        )  # fmt: skip
        days = []
        day = month
        while day < add_months(month, 1):
            cells = []
            for hour in range(24):
                moment = beijing_day_start(day) + hour * HOUR
                row = hours.get(moment)
                method = methods.get(moment)
                status = row.status if row else ""
                cells.append(
                    {
                        "hour": hour,
                        "status": status,
                        "label": row.label if row else "",
                        "label_text": HOUR_LABELS.get(row.label, "") if row else "未计算",
                        "css": CELL_CLASS.get(status, "tc-none"),
                        "substituted": method == Method.AUTO_SUBSTITUTED,
                        "method": method or "",
                        "key": moment.astimezone(BEIJING).strftime("%Y%m%d%H"),
                    }
                )
            counts: dict[str, int] = defaultdict(int)
            for cell in cells:
                counts[str(cell["status"])] += 1
            days.append({"day": day, "cells": cells, "counts": dict(counts)})
            day += dt.timedelta(days=1)
        return outlet, code, month, days, pollutants

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        outlet, code, month, days, pollutants = self.grid()
        context.update(
            outlet=outlet, pollutant=code, month=month, days=days, pollutants=pollutants, hours=range(24),
            previous=add_months(month, -1), next=add_months(month, 1), statuses=ValueStatus.choices,
        )  # fmt: skip
        return context

    def export(self) -> HttpResponse:
        outlet, code, month, days, _p = self.grid()
        rows = [
            [d["day"].isoformat()]
            + [c["label_text"] + ("（替代）" if c["substituted"] else "") for c in d["cells"]]
            for d in days
        ]
        headers = ["日期"] + [f"{h:02d}时" for h in range(24)]
        return xlsx_response(f"{outlet.code}-{code}-{month:%Y%m}日历.xlsx", [("小时有效性", headers, rows)])


class HourDetailView(MonitoringPage):
    """One hour of one parameter: the platform's value, the logger's, the accounting versions, the
    substitution, the review decisions, and every minute with its class and raw frame."""

    template_name = "monitoring/hour_detail.html"

    def moment(self) -> dt.datetime:
        try:
            local = dt.datetime.strptime(self.kwargs["hour"], "%Y%m%d%H")
        except ValueError as exc:
            raise Http404 from exc
        return local.replace(tzinfo=BEIJING)

    def data(self) -> dict[str, Any]:
        outlet = self.get_outlet()
        code = self.kwargs["pollutant"]
        moment = self.moment()
        ctx = load_contexts([outlet.pk])[outlet.pk]
        minutes = classify_minutes(ctx, code, moment, moment + HOUR)
        for m in minutes:
            frame_id = m["frame_id"]
            m["frame_url"] = frame_url(frame_id if isinstance(frame_id, int) else None)
        hour = HourValue.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time=moment).first()
        accounted = EmissionHour.objects.filter(outlet_id=outlet.pk, pollutant=code, data_time=moment).first()
        logger_hour = Sample.objects.filter(outlet_id=outlet.pk, kind="h", pollutant=code, data_time__gte=moment,
                                            data_time__lt=moment + HOUR).first()  # fmt: skip
        return {
            "outlet": outlet,
            "pollutant": Pollutant.objects.filter(code=code).first() or Pollutant(code=code, name=code),
            "moment": moment,
            "hour": hour,
            "flow": HourValue.objects.filter(
                outlet_id=outlet.pk, pollutant=ctx.flow_code, data_time=moment
            ).first(),
            "accounted": accounted,
            "versions": EmissionHourLog.objects.filter(
                outlet_id=outlet.pk, pollutant=code, data_time=moment
            ).order_by("version"),
            "substitution": Substitution.objects.filter(pk=accounted.substitution_id).first()
            if accounted and accounted.substitution_id
            else None,
            "minutes": minutes,
            "logger_hour": logger_hour,
            "logger_frame_url": frame_url(logger_hour.frame_id if logger_hour else None),
            "reviews": ReviewAction.objects.filter(outlet=outlet, start__lt=moment + HOUR, end__gt=moment)
            .filter(Q(pollutant__isnull=True) | Q(pollutant_id=code))
            .select_related("created_by")
            .prefetch_related("evidence"),
            "states": DeviceState.objects.filter(
                outlet=outlet, observed_at__lt=moment + HOUR, observed_at__gte=moment - dt.timedelta(hours=2)
            ).order_by("observed_at"),
            "previous": (moment - HOUR).strftime("%Y%m%d%H"),
            "next": (moment + HOUR).strftime("%Y%m%d%H"),
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        data = self.data()
        context.update(data)
        moment = data["moment"]
        context["review_form"] = ReviewForm(
            user=self.request.user,
            initial={"outlet": data["outlet"].pk, "pollutant": self.kwargs["pollutant"], "level": "hour",
                     "start": moment.strftime("%Y-%m-%dT%H:%M"), "end": (moment + HOUR).strftime("%Y-%m-%dT%H:%M")},
        )  # fmt: skip
        context["can_review"] = self.request.user.has_perm("monitoring.add_reviewaction")
        return context

    def export(self) -> HttpResponse:
        data = self.data()
        rows = [[m["data_time"], m["raw_value"], m["value"], m["flag"], m["cls"], m["label"], m["frame_id"]]
                for m in data["minutes"]]  # fmt: skip
        headers = ["时间", "原始值", "采用值", "数据标记", "类别", "原因", "原始报文ID"]
        name = f"{data['outlet'].code}-{self.kwargs['pollutant']}-{self.kwargs['hour']}.xlsx"
        return xlsx_response(name, [("分钟数据", headers, rows)])


class RatesView(MonitoringPage):
    """Valid-data capture rate and transmission rate per outlet and per enterprise for a month."""

    template_name = "monitoring/rates.html"

    def data(self) -> dict[str, Any]:
        month = self.month()
        outlets = {o.pk: o for o in self.outlets()}
        enterprises = {e.pk: e for e in Enterprise.objects.restrict(self.request.user, None)}
        outlet_rows = [
            (outlets[r.key], r) for r in rates.outlet_rates(list(outlets), month) if r.key in outlets
        ]
        enterprise_rows = [
            (enterprises[r.key], r)
            for r in rates.enterprise_rates(list(enterprises), month)
            if r.key in enterprises
        ]
        return {"month": month, "outlet_rows": outlet_rows, "enterprise_rows": enterprise_rows,
                "previous": add_months(month, -1), "next": add_months(month, 1)}  # fmt: skip

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.data())
        return context

    def export(self) -> HttpResponse:
        data = self.data()
        headers = [
            "名称",
            "应有小时数",
            "收到小时数",
            "有效小时数",
            "停运小时数",
            "工况过程小时数",
            "有效数据捕集率",
            "传输率",
        ]

        def line(name: str, r: rates.Rate) -> list[Any]:
            return [name, r.hours_expected, r.hours_received, r.hours_valid, r.hours_stopped, r.hours_process,
                    r.capture_rate, r.transmission_rate]  # fmt: skip

        return xlsx_response(
            f"捕集率与传输率{data['month']:%Y%m}.xlsx",
            [
                ("排放口", headers, [line(str(o), r) for o, r in data["outlet_rows"]]),
                ("排污单位", headers, [line(e.name, r) for e, r in data["enterprise_rows"]]),
            ],
        )
