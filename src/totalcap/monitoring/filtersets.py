"""Filters shared by the monitoring list pages and API lists (related choices follow the user's scope)."""

from __future__ import annotations

import django_filters

from totalcap.base.filtersets import ScopedFilterSet
from totalcap.monitoring import choices as c
from totalcap.monitoring.models import (
    AccountingPlan,
    DayValue,
    DeviceState,
    EmissionHour,
    EmissionHourLog,
    EmissionTotal,
    EmissionTotalRevision,
    HourValue,
    ManualMeasurement,
    MonthValue,
    OutletMonitoringConfig,
    ReviewAction,
    ReviewEvidence,
    RuleSet,
    Sample,
    Substitution,
    Suspicion,
)
from totalcap.registry.models import Enterprise, Outlet


def outlet_filter() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(label="排放口", queryset=Outlet.objects.all())


def enterprise_filter() -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        label="排污单位", field_name="outlet__enterprise", queryset=Enterprise.objects.all()
    )


def time_filters(field: str) -> tuple[django_filters.IsoDateTimeFilter, django_filters.IsoDateTimeFilter]:
    return (
        django_filters.IsoDateTimeFilter(label="起始时间", field_name=field, lookup_expr="gte"),
        django_filters.IsoDateTimeFilter(label="结束时间", field_name=field, lookup_expr="lt"),
    )


class SampleFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    start, end = time_filters("data_time")

    class Meta:
        model = Sample
        fields = ["outlet", "kind", "pollutant", "flag"]


class HourValueFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    enterprise = enterprise_filter()
    status = django_filters.MultipleChoiceFilter(label="有效性", choices=c.ValueStatus.choices)
    start, end = time_filters("data_time")

    class Meta:
        model = HourValue
        fields = ["enterprise", "outlet", "pollutant", "status", "label", "mismatch", "over_limit"]


class DayValueFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    enterprise = enterprise_filter()
    start = django_filters.DateFilter(label="起始日期", field_name="day", lookup_expr="gte")
    end = django_filters.DateFilter(label="截止日期", field_name="day", lookup_expr="lte")

    class Meta:
        model = DayValue
        fields = ["enterprise", "outlet", "pollutant", "status", "mismatch", "over_limit"]


class MonthValueFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    enterprise = enterprise_filter()

    class Meta:
        model = MonthValue
        fields = ["enterprise", "outlet", "pollutant", "status", "month"]


class EmissionHourFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    start, end = time_filters("data_time")

    class Meta:
        model = EmissionHour
        fields = ["outlet", "pollutant", "method", "hour_status"]


class EmissionHourLogFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    start, end = time_filters("data_time")
    after = django_filters.NumberFilter(label="记录ID大于", field_name="id", lookup_expr="gt")

    class Meta:
        model = EmissionHourLog
        fields = ["outlet", "pollutant", "method", "version", "after"]


class EmissionTotalFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    enterprise = enterprise_filter()
    start = django_filters.DateFilter(label="起始日期", field_name="period_start", lookup_expr="gte")
    end = django_filters.DateFilter(label="截止日期", field_name="period_start", lookup_expr="lte")

    class Meta:
        model = EmissionTotal
        fields = ["enterprise", "outlet", "pollutant", "period", "method"]


class EmissionTotalRevisionFilterSet(ScopedFilterSet):
    class Meta:
        model = EmissionTotalRevision
        fields = ["total", "version"]


class SubstitutionFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    start, end = time_filters("data_time")

    class Meta:
        model = Substitution
        fields = ["outlet", "pollutant", "rule_code", "situation"]


class ReviewActionFilterSet(ScopedFilterSet):
    search_fields = ("reason", "outlet__name", "outlet__enterprise__name")
    outlet = outlet_filter()
    enterprise = enterprise_filter()

    class Meta:
        model = ReviewAction
        fields = ["enterprise", "outlet", "pollutant", "level", "kind", "status", "by_enterprise"]


class ReviewEvidenceFilterSet(ScopedFilterSet):
    class Meta:
        model = ReviewEvidence
        fields = ["review"]


class ManualMeasurementFilterSet(ScopedFilterSet):
    search_fields = ("lab", "report_no", "outlet__name", "outlet__enterprise__name")
    outlet = outlet_filter()
    enterprise = enterprise_filter()
    start, end = time_filters("sampled_at")

    class Meta:
        model = ManualMeasurement
        fields = ["enterprise", "outlet", "pollutant", "kind"]


class SuspicionFilterSet(ScopedFilterSet):
    outlet = outlet_filter()
    enterprise = enterprise_filter()
    status = django_filters.MultipleChoiceFilter(label="状态", choices=c.SuspicionStatus.choices)
    start, end = time_filters("start")

    class Meta:
        model = Suspicion
        fields = ["enterprise", "outlet", "detector", "pollutant", "status"]


class RuleSetFilterSet(ScopedFilterSet):
    search_fields = ("code", "name")

    class Meta:
        model = RuleSet
        fields = ["kind", "medium", "is_default"]


class OutletMonitoringConfigFilterSet(ScopedFilterSet):
    outlet = outlet_filter()

    class Meta:
        model = OutletMonitoringConfig
        fields = ["outlet", "concentration_basis", "flow_basis"]


class AccountingPlanFilterSet(ScopedFilterSet):
    outlet = outlet_filter()

    class Meta:
        model = AccountingPlan
        fields = ["outlet", "pollutant", "automatic_required"]


class DeviceStateFilterSet(ScopedFilterSet):
    outlet = django_filters.ModelChoiceFilter(label="排放口", queryset=Outlet.objects.all())
    start, end = time_filters("observed_at")

    class Meta:
        model = DeviceState
        fields = ["outlet", "code", "pollutant", "source"]
