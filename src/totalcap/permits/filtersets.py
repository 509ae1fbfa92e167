"""Permit filtersets: one per list, shared by the UI and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from totalcap.base.filtersets import ScopedFilterSet
from totalcap.permits import choices as c
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
from totalcap.registry.choices import ManagementClass
from totalcap.registry.models import Enterprise, Jurisdiction


def yes_no(label: str, **kwargs: Any) -> django_filters.BooleanFilter:
    """A yes / no filter whose empty choice reads 全部 (all)."""
    widget = forms.Select(choices=[("", "全部"), ("true", "是"), ("false", "否")])
    return django_filters.BooleanFilter(label=label, widget=widget, **kwargs)


class PermitFilterSet(ScopedFilterSet):
    search_fields = ("number", "enterprise__name", "enterprise__credit_code")
    status = django_filters.ChoiceFilter(choices=c.PermitStatus.choices, label="许可证状态")
    management_class = django_filters.ChoiceFilter(choices=ManagementClass.choices, label="管理类别")
    enterprise = django_filters.ModelChoiceFilter(queryset=Enterprise.objects.all(), label="排污单位")
    within = django_filters.ModelChoiceFilter(
        queryset=Jurisdiction.objects.all(), label="行政区划", method="filter_within"
    )
    expiring_days = django_filters.NumberFilter(
        label="到期天数内",
        method="filter_expiring",
        widget=forms.NumberInput(attrs={"placeholder": "如 120", "style": "width:7rem"}),
    )
    attention = yes_no("有未处理提醒", method="filter_attention")

    class Meta:
        model = Permit
        fields = ["status", "management_class", "enterprise"]

    def filter_within(self, queryset: QuerySet[Any], name: str, value: Jurisdiction | None) -> QuerySet[Any]:
        return queryset.filter(enterprise__jurisdiction__path__startswith=value.path) if value else queryset

    def filter_expiring(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        limit = timezone.localdate() + dt.timedelta(days=int(value))
        return queryset.filter(status__in=c.IN_FORCE, valid_until__lte=limit)

    def filter_attention(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        open_reminders = Reminder.objects.filter(permit=OuterRef("pk"), resolved_at__isnull=True)
        return queryset.filter(Exists(open_reminders) if value else ~Exists(open_reminders))


class PermitVersionFilterSet(ScopedFilterSet):
    search_fields = ("permit__number", "permit__enterprise__name", "reason")
    status = django_filters.ChoiceFilter(choices=c.VersionStatus.choices, label="办理状态")
    kind = django_filters.ChoiceFilter(choices=c.VersionKind.choices, label="申请类型")
    open = yes_no("办理中", method="filter_open")

    class Meta:
        model = PermitVersion
        fields = ["status", "kind", "permit"]

    def filter_open(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        condition = Q(status__in=c.OPEN_VERSION_STATES)
        return queryset.filter(condition if value else ~condition)


class PermitItemFilterSet(ScopedFilterSet):
    class Meta:
        model = PermitItem
        fields = ["version", "outlet", "pollutant"]


class SpecialPeriodLimitFilterSet(ScopedFilterSet):
    class Meta:
        model = SpecialPeriodLimit
        fields = ["version", "kind", "pollutant"]


class ExecutionReportFilterSet(ScopedFilterSet):
    search_fields = ("permit__number", "permit__enterprise__name")
    status = django_filters.ChoiceFilter(choices=c.ReportStatus.choices, label="状态")
    kind = django_filters.ChoiceFilter(choices=c.ReportKind.choices, label="报告类型")
    overdue = yes_no("已逾期", method="filter_overdue")

    class Meta:
        model = ExecutionReport
        fields = ["status", "kind", "permit"]

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        condition = Q(
            status__in=[c.ReportStatus.PENDING, c.ReportStatus.RETURNED], due_date__lt=timezone.localdate()
        )
        return queryset.filter(condition if value else ~condition)


class ReminderFilterSet(ScopedFilterSet):
    search_fields = ("message", "permit__number", "permit__enterprise__name")
    kind = django_filters.ChoiceFilter(choices=c.ReminderKind.choices, label="提醒类型")
    unresolved = yes_no("未处理", field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Reminder
        fields = ["kind", "permit"]


class LimitCalculationFilterSet(ScopedFilterSet):
    search_fields = ("enterprise__name",)

    class Meta:
        model = LimitCalculation
        fields = ["enterprise", "outlet", "pollutant"]


class ReportRuleFilterSet(ScopedFilterSet):
    class Meta:
        model = ReportRule
        fields = ["management_class", "kind", "industry_prefix"]
