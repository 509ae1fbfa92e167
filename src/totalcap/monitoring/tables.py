"""Tables of the monitoring list pages (each exportable to Excel with ``?_export=xlsx``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from totalcap.base.tables import BaseTable
from totalcap.monitoring.models import (
    AccountingPlan,
    DayValue,
    DeviceState,
    EmissionHourLog,
    EmissionTotal,
    HourValue,
    ManualMeasurement,
    MonthValue,
    OutletMonitoringConfig,
    ReviewAction,
    RuleSet,
    Sample,
    Substitution,
    Suspicion,
)

BEIJING = ZoneInfo("Asia/Shanghai")
STATUS_BADGE = {"v": "success", "s": "secondary", "p": "info", "i": "danger", "m": "warning"}


def hour_url(outlet_id: int, pollutant: str, moment: Any) -> str:
    local = moment.astimezone(BEIJING)
    return reverse("monitoring:hour-detail", args=[outlet_id, pollutant, local.strftime("%Y%m%d%H")])


class MonitoringTable(BaseTable):
    """Base table whose Excel/CSV export gives Beijing local times (Excel has no time zones)."""

    class Meta(BaseTable.Meta):
        pass

    def as_values(self, exclude_columns: Any = None) -> Iterator[list[Any]]:
        for row in super().as_values(exclude_columns):
            yield [
                v.astimezone(BEIJING).replace(tzinfo=None)
                if isinstance(v, dt.datetime) and v.tzinfo is not None
                else v
                for v in row
            ]


class StatusColumn(tables.Column):
    """The validity class as a coloured badge."""

    def render(self, value: Any, record: Any) -> str:
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            STATUS_BADGE.get(record.status, "light"),
            record.get_status_display(),
        )

    def value(self, value: Any, record: Any) -> str:
        return str(record.get_status_display())


class HourValueTable(MonitoringTable):
    data_time = tables.DateTimeColumn(verbose_name="小时", format="Y-m-d H:00")
    status = StatusColumn(verbose_name="有效性")

    class Meta(MonitoringTable.Meta):
        model = HourValue
        fields = (
            "data_time", "outlet", "pollutant", "status", "label", "agg_flag", "value", "zs_value", "zs_status",
            "volume_m3", "amount_kg", "valid_minutes", "logger_value", "mismatch", "over_limit",
        )  # fmt: skip

    def render_data_time(self, value: Any, record: HourValue) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            hour_url(record.outlet_id, record.pollutant, value),
            value.astimezone(BEIJING).strftime("%Y-%m-%d %H:00"),
        )

    def value_data_time(self, value: Any, record: HourValue) -> str:
        return str(value.astimezone(BEIJING).strftime("%Y-%m-%d %H:00"))


class SampleTable(MonitoringTable):
    class Meta(MonitoringTable.Meta):
        model = Sample
        fields = ("data_time", "outlet", "logger", "kind", "pollutant", "value", "min", "max", "cou", "zs_value",
                  "flag", "eflag", "frame_id", "received_at")  # fmt: skip


class DayValueTable(MonitoringTable):
    day = tables.Column(linkify=True)
    status = StatusColumn(verbose_name="有效性")

    class Meta(MonitoringTable.Meta):
        model = DayValue
        fields = ("day", "outlet", "pollutant", "status", "hours_valid", "hours_received", "agg_flag", "value",
                  "zs_value", "volume_m3", "amount_kg", "logger_value", "mismatch", "over_limit")  # fmt: skip


class MonthValueTable(MonitoringTable):
    month = tables.Column(linkify=True)
    status = StatusColumn(verbose_name="有效性")

    class Meta(MonitoringTable.Meta):
        model = MonthValue
        fields = ("month", "outlet", "pollutant", "status", "days_valid", "days_expected", "hours_valid", "value",
                  "zs_value", "volume_m3", "amount_kg")  # fmt: skip


class EmissionTotalTable(MonitoringTable):
    period_start = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = EmissionTotal
        fields = ("period_start", "period", "outlet", "pollutant", "kg", "method", "capture_rate", "hours_expected",
                  "hours_auto_valid", "hours_auto_substituted", "hours_manual", "hours_penalised", "hours_stopped",
                  "hours_unaccounted", "version")  # fmt: skip


class EmissionHourLogTable(MonitoringTable):
    id = tables.Column(linkify=True, verbose_name="ID")

    class Meta(MonitoringTable.Meta):
        model = EmissionHourLog
        fields = ("id", "data_time", "outlet", "pollutant", "version", "kg", "delta_kg", "method", "hour_status",
                  "cause", "created_at")  # fmt: skip


class SubstitutionTable(MonitoringTable):
    data_time = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = Substitution
        fields = ("data_time", "outlet", "pollutant", "rule_code", "situation", "kg", "concentration", "volume_m3",
                  "ruleset", "created_at")  # fmt: skip


class ReviewActionTable(MonitoringTable):
    start = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = ReviewAction
        fields = ("start", "end", "outlet", "pollutant", "level", "kind", "value", "status", "created_by",
                  "by_enterprise", "created_at")  # fmt: skip


class ManualMeasurementTable(MonitoringTable):
    sampled_at = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = ManualMeasurement
        fields = ("sampled_at", "outlet", "pollutant", "kind", "concentration", "unit", "flow_m3_h", "period_start",
                  "period_end", "lab", "report_no", "source")  # fmt: skip


class SuspicionTable(MonitoringTable):
    start = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = Suspicion
        fields = ("start", "end", "detector", "outlet", "pollutant", "status", "handled_by", "handled_at")


class RuleSetTable(MonitoringTable):
    name = tables.Column(linkify=True)

    class Meta(MonitoringTable.Meta):
        model = RuleSet
        fields = ("name", "kind", "code", "version", "medium", "is_default", "created_at")


class OutletMonitoringConfigTable(MonitoringTable):
    outlet = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(MonitoringTable.Meta):
        model = OutletMonitoringConfig
        fields = ("outlet", "validity_rules", "substitution_rules", "screening_rules", "minute_interval",
                  "concentration_basis", "flow_basis", "reference_o2")  # fmt: skip


class AccountingPlanTable(MonitoringTable):
    pollutant = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(MonitoringTable.Meta):
        model = AccountingPlan
        fields = ("outlet", "pollutant", "automatic_required", "material_balance_kg_h", "emission_factor_kg_h",
                  "untreated_kg_h", "manual_before_substitution", "take_larger")  # fmt: skip


class DeviceStateTable(MonitoringTable):
    class Meta(MonitoringTable.Meta):
        model = DeviceState
        fields = ("observed_at", "outlet", "logger", "pollutant", "code", "value", "source", "frame_id")
