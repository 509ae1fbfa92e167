"""Monitoring models: samples and states as reported, the platform's values, accounting, review."""

from totalcap.monitoring.models.accounting import (
    EmissionHour,
    EmissionHourLog,
    EmissionTotal,
    EmissionTotalRevision,
    Substitution,
)
from totalcap.monitoring.models.config import AccountingPlan, OutletMonitoringConfig, RuleSet
from totalcap.monitoring.models.review import ManualMeasurement, ReviewAction, ReviewEvidence, Suspicion
from totalcap.monitoring.models.samples import KIND_TABLES, DeviceState, PipelineCursor, Sample
from totalcap.monitoring.models.values import DayValue, HourValue, MonthValue

__all__ = [
    "KIND_TABLES",
    "AccountingPlan",
    "DayValue",
    "DeviceState",
    "EmissionHour",
    "EmissionHourLog",
    "EmissionTotal",
    "EmissionTotalRevision",
    "HourValue",
    "ManualMeasurement",
    "MonthValue",
    "OutletMonitoringConfig",
    "PipelineCursor",
    "ReviewAction",
    "ReviewEvidence",
    "RuleSet",
    "Sample",
    "Substitution",
    "Suspicion",
]
