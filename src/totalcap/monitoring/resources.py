"""Pages and endpoints of the monitoring models, declared once (see base/resources.py)."""

from __future__ import annotations

from totalcap.base.resources import Resource
from totalcap.monitoring import filtersets as f
from totalcap.monitoring import forms
from totalcap.monitoring import tables as t
from totalcap.monitoring.api import serializers as s
from totalcap.monitoring.models import (
    AccountingPlan,
    DayValue,
    DeviceState,
    EmissionHourLog,
    EmissionTotal,
    ManualMeasurement,
    MonthValue,
    OutletMonitoringConfig,
    ReviewAction,
    RuleSet,
    Substitution,
    Suspicion,
)
from totalcap.monitoring.views import pages as v

OUTLET = ("outlet", "outlet__enterprise")

RESOURCES = [
    Resource(DayValue, t.DayValueTable, f.DayValueFilterSet, s.DayValueSerializer, editable=False, deletable=False,
             select_related=OUTLET),
    Resource(MonthValue, t.MonthValueTable, f.MonthValueFilterSet, s.MonthValueSerializer, editable=False,
             deletable=False, select_related=OUTLET),
    Resource(EmissionTotal, t.EmissionTotalTable, f.EmissionTotalFilterSet, s.EmissionTotalSerializer, editable=False,
             deletable=False, select_related=OUTLET, views={"detail": v.EmissionTotalDetailView}),
    Resource(EmissionHourLog, t.EmissionHourLogTable, f.EmissionHourLogFilterSet, s.EmissionHourLogSerializer,
             editable=False, deletable=False, select_related=OUTLET),
    Resource(Substitution, t.SubstitutionTable, f.SubstitutionFilterSet, s.SubstitutionSerializer, editable=False,
             deletable=False, select_related=(*OUTLET, "ruleset")),
    Resource(ReviewAction, t.ReviewActionTable, f.ReviewActionFilterSet, s.ReviewActionSerializer, editable=False,
             deletable=False, select_related=(*OUTLET, "created_by"), views={"detail": v.ReviewDetailView}),
    Resource(ManualMeasurement, t.ManualMeasurementTable, f.ManualMeasurementFilterSet,
             s.ManualMeasurementSerializer, form_class=forms.ManualMeasurementForm, select_related=OUTLET,
             list_template="monitoring/list.html",
             views={"create": v.ManualCreateView, "update": v.ManualUpdateView, "delete": v.ManualDeleteView}),
    Resource(Suspicion, t.SuspicionTable, f.SuspicionFilterSet, s.SuspicionSerializer, editable=False,
             deletable=False, select_related=OUTLET, views={"detail": v.SuspicionDetailView}),
    Resource(RuleSet, t.RuleSetTable, f.RuleSetFilterSet, s.RuleSetSerializer, editable=False, deletable=False,
             views={"detail": v.RuleSetDetailView}, list_template="monitoring/list.html"),
    Resource(OutletMonitoringConfig, t.OutletMonitoringConfigTable, f.OutletMonitoringConfigFilterSet,
             s.OutletMonitoringConfigSerializer, form_class=forms.OutletMonitoringConfigForm, select_related=OUTLET),
    Resource(AccountingPlan, t.AccountingPlanTable, f.AccountingPlanFilterSet, s.AccountingPlanSerializer,
             form_class=forms.AccountingPlanForm, select_related=OUTLET),
    Resource(DeviceState, t.DeviceStateTable, f.DeviceStateFilterSet, s.DeviceStateSerializer, editable=False,
             deletable=False, select_related=("outlet", "logger")),
]  # fmt: skip
BY_NAME = {r.name: r for r in RESOURCES}
