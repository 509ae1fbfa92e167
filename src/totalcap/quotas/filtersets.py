from __future__ import annotations

import django_filters

from totalcap.base.filtersets import ScopedFilterSet
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
from totalcap.registry.models import Enterprise


class RegionTotalFilterSet(ScopedFilterSet):
    search_fields = ("jurisdiction__name", "pollutant__name")

    class Meta:
        model = RegionTotal
        fields = ["year", "pollutant", "status"]


class PeriodPlanFilterSet(ScopedFilterSet):
    search_fields = ("enterprise__name",)

    class Meta:
        model = PeriodPlan
        fields = ["year", "enterprise", "pollutant", "status"]


class SpecialPeriodFilterSet(ScopedFilterSet):
    search_fields = ("label",)

    class Meta:
        model = SpecialPeriod
        fields = ["kind", "jurisdiction"]


class QuotaAccountFilterSet(ScopedFilterSet):
    search_fields = ("enterprise__name", "pollutant__name")

    class Meta:
        model = QuotaAccount
        fields = ["kind", "year", "month", "enterprise", "pollutant", "alert_level"]


class CardFilterSet(ScopedFilterSet):
    search_fields = ("uid", "enterprise__name")

    class Meta:
        model = Card
        fields = ["status", "enterprise"]


class CardSwipeFilterSet(ScopedFilterSet):
    search_fields = ("card_uid", "enterprise__name", "logger__mn")

    class Meta:
        model = CardSwipe
        fields = ["outcome", "channel", "year", "month", "enterprise"]


class TransferFilterSet(ScopedFilterSet):
    search_fields = ("reason", "from_enterprise__name", "to_enterprise__name")
    enterprise = django_filters.ModelChoiceFilter(
        label="排污单位", field_name="to_enterprise", queryset=Enterprise.objects.all()
    )

    class Meta:
        model = Transfer
        fields = ["status", "year", "pollutant", "enterprise"]


class ValveOrderFilterSet(ScopedFilterSet):
    search_fields = ("reason", "enterprise__name", "valve__code")

    class Meta:
        model = ValveOrder
        fields = ["state", "action", "origin", "enterprise"]


class SettlementFilterSet(ScopedFilterSet):
    search_fields = ("enterprise__name",)

    class Meta:
        model = Settlement
        fields = ["year", "month", "enterprise"]


class AllocationPlanFilterSet(ScopedFilterSet):
    class Meta:
        model = AllocationPlan
        fields = ["status", "method"]
