from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html

from totalcap.base.tables import BaseTable
from totalcap.quotas.models import (
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

LEVEL_BADGE = {0: "success", 1: "warning", 2: "danger", 3: "dark"}


class RegionTotalTable(BaseTable):
    jurisdiction = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = RegionTotal
        fields = ("year", "jurisdiction", "pollutant", "total", "unit", "reduction_target_pct", "status")


class PeriodPlanTable(BaseTable):
    enterprise = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(BaseTable.Meta):
        model = PeriodPlan
        fields = ("year", "enterprise", "outlet", "pollutant", "granularity", "status")


class SpecialPeriodTable(BaseTable):
    label = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = SpecialPeriod
        fields = ("label", "kind", "jurisdiction", "start", "end", "reduction_pct", "applied")


class QuotaAccountTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="账户")
    alert_level = tables.Column()

    class Meta(BaseTable.Meta):
        model = QuotaAccount
        fields = (
            "id",
            "kind",
            "enterprise",
            "outlet",
            "pollutant",
            "year",
            "month",
            "balance",
            "unit",
            "alert_level",
        )

    def render_alert_level(self, value: str, record: QuotaAccount) -> str:
        return format_html(
            '<span class="badge text-bg-{}">{}</span>',
            LEVEL_BADGE.get(record.alert_level, "secondary"),
            value,
        )


class CardTable(BaseTable):
    uid = tables.Column(linkify=True)

    class Meta(BaseTable.Meta):
        model = Card
        fields = ("uid", "enterprise", "permit", "status", "issued_at")


class CardSwipeTable(BaseTable):
    class Meta(BaseTable.Meta):
        model = CardSwipe
        fields = ("swiped_at", "card_uid", "enterprise", "logger", "channel", "outcome", "loaded", "message")


class TransferTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="编号")

    class Meta(BaseTable.Meta):
        model = Transfer
        fields = (
            "id",
            "from_enterprise",
            "to_enterprise",
            "pollutant",
            "year",
            "from_month",
            "to_month",
            "amount",
            "status",
        )


class ValveOrderTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="编号")

    class Meta(BaseTable.Meta):
        model = ValveOrder
        fields = ("id", "created_at", "enterprise", "valve", "action", "origin", "state", "reason")


class SettlementTable(BaseTable):
    class Meta(BaseTable.Meta):
        model = Settlement
        fields = (
            "year",
            "month",
            "enterprise",
            "account",
            "allowance",
            "used",
            "remaining",
            "overrun",
            "carried",
            "penalty",
        )


class AllocationPlanTable(BaseTable):
    id = tables.Column(linkify=True, verbose_name="编号")

    class Meta(BaseTable.Meta):
        model = AllocationPlan
        fields = ("id", "region_total", "method", "keep_reserve_pct", "status", "created_at", "approved_at")
