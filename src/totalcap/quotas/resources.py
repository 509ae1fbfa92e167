from __future__ import annotations

from totalcap.base.resources import Resource
from totalcap.quotas import filtersets as f
from totalcap.quotas import forms, views
from totalcap.quotas import tables as t
from totalcap.quotas.api import serializers as s
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

RESOURCES = [
    Resource(RegionTotal, t.RegionTotalTable, f.RegionTotalFilterSet, s.RegionTotalSerializer,
             form_class=forms.RegionTotalForm, deletable=False, select_related=("jurisdiction", "pollutant"),
             views={"detail": views.RegionTotalDetailView}),
    Resource(AllocationPlan, t.AllocationPlanTable, f.AllocationPlanFilterSet, s.AllocationPlanSerializer, editable=False, deletable=False,
             views={"detail": views.AllocationPlanDetailView}),
    Resource(PeriodPlan, t.PeriodPlanTable, f.PeriodPlanFilterSet, s.PeriodPlanSerializer, editable=False,
             deletable=False, select_related=("enterprise", "outlet", "pollutant"),
             views={"detail": views.PeriodPlanDetailView}),
    Resource(SpecialPeriod, t.SpecialPeriodTable, f.SpecialPeriodFilterSet, s.SpecialPeriodSerializer,
             form_class=forms.SpecialPeriodForm, select_related=("jurisdiction",),
             views={"detail": views.SpecialPeriodDetailView}),
    Resource(QuotaAccount, t.QuotaAccountTable, f.QuotaAccountFilterSet, s.QuotaAccountSerializer, editable=False,
             deletable=False, select_related=("enterprise", "outlet", "pollutant", "jurisdiction"),
             views={"detail": views.QuotaAccountDetailView}),
    Resource(Card, t.CardTable, f.CardFilterSet, s.CardSerializer, editable=False, deletable=False,
             select_related=("enterprise", "permit"), views={"detail": views.CardDetailView}),
    Resource(CardSwipe, t.CardSwipeTable, f.CardSwipeFilterSet, s.CardSwipeSerializer, editable=False,
             deletable=False, select_related=("enterprise", "logger")),
    Resource(Transfer, t.TransferTable, f.TransferFilterSet, s.TransferSerializer, editable=False, deletable=False,
             select_related=("from_enterprise", "to_enterprise", "pollutant"), views={"detail": views.TransferDetailView}),
    Resource(ValveOrder, t.ValveOrderTable, f.ValveOrderFilterSet, s.ValveOrderSerializer, editable=False,
             deletable=False, select_related=("enterprise", "valve", "valve__outlet"),
             views={"detail": views.ValveOrderDetailView}),
    Resource(Settlement, t.SettlementTable, f.SettlementFilterSet, s.SettlementSerializer, editable=False,
             deletable=False, select_related=("enterprise", "account")),
]  # fmt: skip
