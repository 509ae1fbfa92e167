"""Demo permits for the Taizhou demo enterprises (``totalcap permits demo``).

Deterministic and idempotent: enterprises that already hold a permit are left alone. Everything goes
through the services with the demo's system administrator as the actor, so the demo has the same
events and history as real work: most permits valid, one with a change under review, one suspended,
one close to expiry (renewal reminders), the poultry slaughterhouse with the seed 004 calculation
applied; reports of the past periods filed and accepted, the latest ones still open.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from totalcap.base import events
from totalcap.permits import schedule, services
from totalcap.permits.models import ExecutionReport, Permit, PermitItem, PermitVersion
from totalcap.permits.policy import term_end
from totalcap.registry.choices import ManagementClass, Medium
from totalcap.registry.models import Enterprise, Outlet, Pollutant

POLLUTANTS = {Medium.WATER: ["w01018", "w21003"], Medium.AIR: ["a34013", "a21026", "a21002"]}
ISSUE_PATH = ["submit", "accept", "start_review", "approve", "issue"]

POULTRY_CASE: dict[str, Any] = {
    "benchmark_m3_per_t": 10,
    "annual_production_t": 15000,
    "long_term_mean_mg_per_l": 25,
    "candidate_annual_t": {"monitoring": 9.0, "survey": 6.1},
    "history_complies": True,
    "selection": "median",
    "selection_reason": "在线监测、企业调查表与标准法三种途径取中间值",
    "cv": 0.71,
}


@dataclass
class DemoPermits:
    created: int = 0
    items: int = 0
    reports: int = 0
    notes: list[str] = field(default_factory=list)


def _admin() -> Any:
    from totalcap.accounts.models import User

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if admin is None:
        raise RuntimeError("the demo permits need an active superuser: run `totalcap demo-data` first")
    return admin


def _items(version: PermitVersion, actor: Any, rng: random.Random) -> int:
    count = 0
    enterprise = version.permit.enterprise
    for outlet in Outlet.objects.filter(enterprise=enterprise).order_by("code"):
        for code in POLLUTANTS.get(Medium(outlet.medium), []):
            pollutant = Pollutant.objects.filter(code=code).first()
            if pollutant is None or services.suggest_limit(outlet, pollutant) is None:
                continue
            item = PermitItem(version=version, outlet=outlet, pollutant=pollutant, beta=Decimal("1.8"))
            if outlet.medium == Medium.WATER:
                item.design_flow_m3_per_h = Decimal(rng.choice([20, 40, 60, 120, 200]))
                item.monitoring_frequency = "自动监测" if code == "w01018" else "1次/日"
            else:
                item.design_flow_m3_per_h = Decimal(rng.choice([60000, 120000, 200000, 300000]))
                item.monitoring_frequency = "自动监测"
            item.operating_hours = Decimal(7200)
            services.prepare_item(item)
            if item.standard_method_t is not None:
                share = Decimal(rng.choice([60, 65, 70, 75, 80])) / 100
                item.eia_t = (item.standard_method_t * share).quantize(Decimal("0.01"))
            services.save_item(actor, item)
            count += 1
    return count


def _issue(version: PermitVersion, actor: Any) -> PermitVersion:
    for action in ISSUE_PATH:
        version = services.transition_version(actor, version, action)
    return version


def _backdate(permit: Permit, first: dt.date) -> None:
    """Demo only: pretend the permit was issued on ``first`` (the versions keep their real dates)."""
    until = term_end(first)
    Permit.objects.filter(pk=permit.pk).update(first_issued_on=first, valid_from=first, valid_until=until)
    events.record(None, permit, "demo_backdated", {"first_issued_on": first, "valid_until": until})


def _file_old_reports(permit: Permit, actor: Any, today: dt.date) -> int:
    filed = 0
    for report in ExecutionReport.objects.filter(permit=permit, due_date__lt=today - dt.timedelta(days=20)):
        report.summary = (
            "报告期内正常生产，污染防治设施正常运行，自行监测按要求开展，排放浓度和排放量均符合许可要求。"
        )
        report.all_compliant = True
        schedule.save_report(actor, report)
        schedule.transition_report(actor, report, "submit")
        schedule.transition_report(actor, report, "accept")
        filed += 1
    return filed


def load_demo_permits(today: dt.date | None = None) -> DemoPermits:
    """Issue demo permits for the enterprises that have none (deterministic, idempotent)."""
    today = today or timezone.localdate()
    actor = _admin()
    rng = random.Random(20260101)
    result = DemoPermits()
    enterprises = list(Enterprise.objects.filter(permits__isnull=True).order_by("credit_code"))
    under_review = suspended = False
    for enterprise in enterprises:
        index = result.created  # variety by the order of issue
        with transaction.atomic():
            registration = enterprise.management_class == ManagementClass.REGISTRATION
            permit = services.open_application(actor, enterprise)
            version = permit.versions.get()
            if not registration:
                result.items += _items(version, actor, rng)
                if not version.items.exists():
                    result.notes.append(f"{enterprise.name}: 无可用标准限值，保留为草稿")
                    continue
            if registration:
                version = services.transition_version(actor, version, "submit")
                services.transition_version(actor, version, "register")
            else:
                _issue(version, actor)
            permit.refresh_from_db()
            first = today - dt.timedelta(days=rng.choice([200, 400, 700, 900]))
            if index == 1:
                first = today - dt.timedelta(days=5 * 365 - 80)  # expires in about 80 days: renewal reminders
            _backdate(permit, first)
            permit.refresh_from_db()
            result.reports += schedule.schedule_reports(permit, today)
            _file_old_reports(permit, actor, today)
            if enterprise.industry.code == "1352" and not registration:
                _apply_poultry_case(permit, actor)
            if index >= 2 and not under_review and permit.open_version is None:
                under_review = True
                change = services.start_change(
                    actor,
                    permit,
                    reason="新增污水深度处理设施，申请调减化学需氧量许可排放量",
                    fact_date=today - dt.timedelta(days=12),
                )
                services.transition_version(actor, change, "submit")
                services.transition_version(actor, change, "accept")
                services.transition_version(actor, change, "start_review")
            elif index >= 3 and not suspended:
                suspended = True
                services.transition_permit(
                    actor, permit, "suspend", {"reason": "在线监测数据异常，责令停产整治"}
                )
            result.created += 1
    schedule.run_daily(today)
    return result


def _apply_poultry_case(permit: Permit, actor: Any) -> None:
    """The seed 004 case on the poultry plant's COD: a change version with the calculation applied."""
    water = Outlet.objects.filter(enterprise=permit.enterprise, medium=Medium.WATER).order_by("code").first()
    cod = Pollutant.objects.filter(code="w01018").first()
    if water is None or cod is None:
        return
    standards = services.calculator_standards(water, cod)
    if not standards:
        return
    change = services.start_change(
        actor,
        permit,
        reason="按基于技术的限值核定方法重新核定化学需氧量许可排放量",
        fact_date=timezone.localdate(),
    )
    services.apply_calculation(actor, change, water, cod, {**POULTRY_CASE, "standards": standards})
