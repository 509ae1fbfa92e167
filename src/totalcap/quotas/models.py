"""Total control: region totals, allocations, period plans, the quota ledger, cards and swipes,
transfers, threshold policies, valve orders and settlements.

Quantities are Decimal in the account's unit: kg for pollutants, m³ for the wastewater volume
(``w00000``). Reports convert kg to t.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from totalcap.base.models import ScopedModel
from totalcap.quotas import choices as c

ZERO = Decimal("0")


def actor(label: Any, *, blank: bool = False) -> Any:
    """The person who did a step (编制人, 审批人, …): kept when the user is deleted, no reverse name."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=label, null=True, blank=blank, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip


def quantity(label: Any, **kwargs: Any) -> models.DecimalField:
    """A ledger quantity: up to 16 integer digits and 4 decimals."""
    return models.DecimalField(label, max_digits=20, decimal_places=4, **kwargs)


def unit_of(pollutant_code: str) -> str:
    """The ledger unit of a quota dimension: m³ for wastewater volume, kg for pollutants."""
    return "m³" if pollutant_code in ("w00000", "a00000") else "kg"


PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


# --- region totals and allocation -----------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RegionTotal(ScopedModel):
    """A city's or county's annual total for one pollutant, with its reduction target."""

    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.ForeignKey("registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(
        _("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    total = quantity(_("总量指标"), validators=[MinValueValidator(ZERO)])
    unit = models.CharField(_("单位"), max_length=8, default="kg")
    baseline = quantity(_("基准年排放量"), null=True, blank=True, validators=[MinValueValidator(ZERO)])
    reduction_target_pct = models.DecimalField(
        _("减排目标(%)"), max_digits=5, decimal_places=2, default=ZERO, validators=PERCENT
    )
    quality_factor_pct = models.DecimalField(
        _("环境质量未达标从严系数(%)"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=PERCENT,
        help_text=_("一区一策：空气或水环境质量未达标的区域，可分配量按此比例从严核减"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=c.RegionTotalStatus.choices, default=c.RegionTotalStatus.DRAFT
    )
    note = models.TextField(_("说明"), blank=True)

    scope_jurisdiction = "jurisdiction__path"

    class Meta:
        verbose_name = _("区域总量")
        verbose_name_plural = _("区域总量")
        ordering = ["-year", "jurisdiction__code", "pollutant__code"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "pollutant", "year"], name="uniq_region_total")
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction.name} {self.year}年 {self.pollutant.name}"

    def clean(self) -> None:
        if self.jurisdiction_id and self.jurisdiction.level == "province":
            raise ValidationError({"jurisdiction": _("区域总量下达到市级或县级行政区划。")})
        if self.baseline is not None and self.total > self.baseline * (1 - self.reduction_target_pct / 100):
            raise ValidationError({"total": _("总量指标超过减排目标允许的上限（基准 × (1 − 减排目标)）。")})

    def event_scope(self) -> tuple[str, int | None]:
        return self.jurisdiction.path, None


class AllocationPlan(ScopedModel):
    """A proposal to allocate a region total to enterprises by one method, edited and approved."""

    region_total = models.ForeignKey(
        RegionTotal, verbose_name=_("区域总量"), on_delete=models.PROTECT, related_name="plans"
    )
    method = models.CharField(_("分配方法"), max_length=16, choices=c.AllocationMethod.choices)
    keep_reserve_pct = models.DecimalField(
        _("预留储备(%)"), max_digits=5, decimal_places=2, default=Decimal("5"), validators=PERCENT
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=c.PlanStatus.choices, default=c.PlanStatus.DRAFT
    )
    created_by = actor(_("编制人"))
    approved_by = actor(_("批准人"), blank=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    note = models.TextField(_("说明"), blank=True)

    scope_jurisdiction = "region_total__jurisdiction__path"

    class Meta:
        verbose_name = _("分配方案")
        verbose_name_plural = _("分配方案")
        ordering = ["-created_at"]
        permissions = [("approve_allocationplan", "可以批准分配方案")]

    def __str__(self) -> str:
        return f"{self.region_total} · {self.get_method_display()}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.region_total.jurisdiction.path, None


class AllocationLine(ScopedModel):
    """One enterprise's line of an allocation plan: the basis, the computed and the final figure."""

    plan = models.ForeignKey(
        AllocationPlan, verbose_name=_("分配方案"), on_delete=models.CASCADE, related_name="lines"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT
    )
    basis = quantity(_("分配依据值"), default=ZERO)
    basis_note = models.CharField(_("依据说明"), max_length=255, blank=True)
    proposed = quantity(_("建议分配量"), default=ZERO)
    final = quantity(_("核定分配量"), default=ZERO, validators=[MinValueValidator(ZERO)])

    scope_jurisdiction = "plan__region_total__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("分配明细")
        verbose_name_plural = _("分配明细")
        ordering = ["plan", "enterprise__name"]
        constraints = [models.UniqueConstraint(fields=["plan", "enterprise"], name="uniq_allocation_line")]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.final}"


class SpecialPeriod(ScopedModel):
    """A heavy-pollution alert or dry season that lowers the allowance of the days it covers."""

    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=c.SpecialPeriodKind.choices)
    label = models.CharField(_("名称"), max_length=64, help_text=_("如：橙色预警、枯水期"))
    start = models.DateField(_("开始日期"))
    end = models.DateField(_("结束日期"), help_text=_("含当日"))
    reduction_pct = models.DecimalField(
        _("削减比例(%)"), max_digits=5, decimal_places=2, validators=PERCENT,
        help_text=_("所覆盖日期的配额按此比例削减"),
    )  # fmt: skip
    pollutants = models.ManyToManyField("registry.Pollutant", verbose_name=_("适用污染物"), blank=True)
    applied = models.BooleanField(_("已对已加载配额执行削减"), default=False)

    scope_jurisdiction = "jurisdiction__path"

    class Meta:
        verbose_name = _("特殊时段")
        verbose_name_plural = _("特殊时段")
        ordering = ["-start"]

    def __str__(self) -> str:
        return f"{self.label} {self.start}～{self.end}"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("结束日期不能早于开始日期。")})


# --- period plans ---------------------------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class PeriodPlan(ScopedModel):
    """An enterprise's split of its annual total into months (or quarters), approved by the regulator."""

    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT
    )
    outlet = models.ForeignKey(
        "registry.Outlet", verbose_name=_("排放口"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("为空表示全厂"),
    )  # fmt: skip
    pollutant = models.ForeignKey("registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    granularity = models.CharField(
        _("计划周期"), max_length=8, choices=c.Granularity.choices, default=c.Granularity.MONTH
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=c.PlanStatus.choices, default=c.PlanStatus.DRAFT
    )
    submitted_by = actor(_("提交人"), blank=True)
    reviewed_by = actor(_("审批人"), blank=True)
    review_note = models.CharField(_("审批意见"), max_length=255, blank=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("排放计划")
        verbose_name_plural = _("排放计划")
        ordering = ["-year", "enterprise__name"]
        permissions = [("approve_periodplan", "可以审批排放计划")]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "outlet", "pollutant", "year"],
                condition=~Q(status="rejected"),
                name="uniq_open_period_plan",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        where = self.outlet.code if self.outlet_id else "全厂"  # type: ignore[union-attr]
        return f"{self.enterprise} {where} {self.year}年 {self.pollutant.name}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id


class PeriodPlanLine(ScopedModel):
    """The planned amount of one month (quarter plans are stored split into their months)."""

    plan = models.ForeignKey(
        PeriodPlan, verbose_name=_("排放计划"), on_delete=models.CASCADE, related_name="lines"
    )
    month = models.PositiveSmallIntegerField(
        _("月份"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    amount = quantity(_("计划量"), validators=[MinValueValidator(ZERO)])

    scope_jurisdiction = "plan__enterprise__jurisdiction__path"
    scope_enterprise = "plan__enterprise"

    class Meta:
        verbose_name = _("月度计划")
        verbose_name_plural = _("月度计划")
        ordering = ["plan", "month"]
        constraints = [models.UniqueConstraint(fields=["plan", "month"], name="uniq_plan_month")]

    def __str__(self) -> str:
        return f"{self.month}月 {self.amount}"


# --- the ledger -----------------------------------------------------------------------------


class QuotaAccount(ScopedModel):
    """A ledger account. Its ``balance`` is a cache of the sum of its entries (``reconcile`` proves it).

    Enterprise accounts are per (enterprise, outlet or plant, pollutant, year[, month]); region
    accounts per (jurisdiction, pollutant, year). ``alert_level`` remembers the highest threshold
    crossed in the month so that each crossing raises one alarm, not one per frame.
    """

    kind = models.CharField(_("账户类型"), max_length=16, choices=c.AccountKind.choices)
    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("排污单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quota_accounts",
    )
    outlet = models.ForeignKey(
        "registry.Outlet",
        verbose_name=_("排放口"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    pollutant = models.ForeignKey("registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=8)
    balance = quantity(_("余额"), default=ZERO)
    alert_level = models.PositiveSmallIntegerField(
        _("预警级别"), choices=c.AlertLevel.choices, default=c.AlertLevel.NONE
    )

    scope_jurisdiction = "jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("配额账户")
        verbose_name_plural = _("配额账户")
        ordering = ["-year", "-month", "enterprise__name", "pollutant__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "jurisdiction", "enterprise", "outlet", "pollutant", "year", "month"],
                name="uniq_quota_account",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["enterprise", "year", "month"], name="quota_account_period_idx")]

    def __str__(self) -> str:
        who = self.enterprise.name if self.enterprise_id else self.jurisdiction.name  # type: ignore[union-attr]
        where = f" {self.outlet.code}" if self.outlet_id else ""  # type: ignore[union-attr]
        period = f"{self.year}-{self.month:02d}" if self.month else f"{self.year}"
        return f"{who}{where} {self.pollutant.name} {period} {self.get_kind_display()}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.jurisdiction.path, self.enterprise_id


class LedgerTransaction(ScopedModel):
    """A balanced set of entries (their amounts sum to zero), written once, never changed.

    ``key`` makes postings idempotent: the same swipe, sample or settlement posted twice is stored once.
    """

    kind = models.CharField(_("业务类型"), max_length=24, choices=c.TransactionKind.choices)
    key = models.CharField(_("幂等键"), max_length=160, unique=True)
    memo = models.CharField(_("摘要"), max_length=255, blank=True)
    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction", verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("排污单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    occurred_at = models.DateTimeField(_("业务时间"), help_text=_("消耗：数据时间；其他：过账时间"))
    reference = models.JSONField(_("关联"), default=dict, blank=True)

    scope_jurisdiction = "jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("台账交易")
        verbose_name_plural = _("台账交易")
        ordering = ["-id"]
        triggers = [
            pgtrigger.Protect(name="ledger_tx_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.memo}"


class LedgerEntry(ScopedModel):
    """One leg of a transaction on one account (positive credits, negative debits)."""

    transaction = models.ForeignKey(
        LedgerTransaction, verbose_name=_("交易"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        QuotaAccount, verbose_name=_("账户"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = quantity(_("金额"))

    scope_jurisdiction = "account__jurisdiction__path"
    scope_enterprise = "account__enterprise"

    class Meta:
        verbose_name = _("台账分录")
        verbose_name_plural = _("台账分录")
        ordering = ["-id"]
        triggers = [
            pgtrigger.Protect(name="ledger_entry_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]
        indexes = [models.Index(fields=["account", "id"], name="ledger_entry_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount}"


# --- policies, cards, transfers -------------------------------------------------------------


class QuotaPolicy(ScopedModel):
    """Thresholds and month-end rules for one enterprise (or the default when enterprise is empty)."""

    enterprise = models.OneToOneField(
        "registry.Enterprise", verbose_name=_("排污单位"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="quota_policy", help_text=_("为空表示默认策略"),
    )  # fmt: skip
    warning_pct = models.DecimalField(_("预警阈值(%)"), max_digits=5, decimal_places=2, default=Decimal("80"))
    red_pct = models.DecimalField(_("红色预警阈值(%)"), max_digits=5, decimal_places=2, default=Decimal("90"))
    close_pct = models.DecimalField(_("关阀阈值(%)"), max_digits=6, decimal_places=2, default=Decimal("100"))
    close_grace_minutes = models.PositiveIntegerField(
        _("关阀宽限(分钟)"), default=30, help_text=_("用尽后先发最后警告，宽限期满仍未充值则关阀")
    )
    carry_over = models.CharField(
        _("月末余量处理"), max_length=8, choices=c.CarryOverRule.choices, default=c.CarryOverRule.CARRY
    )
    penalty_factor = models.DecimalField(
        _("超量处罚倍数"), max_digits=5, decimal_places=2, default=Decimal("1"),
        help_text=_("超出量 × 倍数 从下月配额中扣减"),
    )  # fmt: skip
    auto_reopen = models.BooleanField(_("充值或新月自动开阀"), default=True)
    consumption_source = models.CharField(
        _("实时扣减数据源"),
        max_length=8,
        choices=[("minute", "分钟数据（流量累计值）"), ("realtime", "实时数据 × 流量")],
        default="minute",
        help_text=_("两者只取其一，避免重复扣减；小时核算完成后按核算结果校正"),
    )

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("总量控制策略")
        verbose_name_plural = _("总量控制策略")

    def __str__(self) -> str:
        return f"{self.enterprise or '默认'}：{self.warning_pct}/{self.red_pct}/{self.close_pct}%"

    def clean(self) -> None:
        if not (0 < self.warning_pct < self.red_pct <= self.close_pct):
            raise ValidationError(_("阈值应满足 0 < 预警 < 红色预警 ≤ 关阀。"))


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Card(ScopedModel):
    """The IC card of "one enterprise, one permit, one card". A token: the ledger is the truth."""

    uid = models.CharField(_("卡号UID"), max_length=32, unique=True)
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="cards"
    )
    permit = models.ForeignKey(
        "permits.Permit", verbose_name=_("排污许可证"), on_delete=models.PROTECT, related_name="cards"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=c.CardStatus.choices, default=c.CardStatus.ACTIVE
    )
    issued_at = models.DateTimeField(_("发卡时间"))
    replaced_by = models.OneToOneField(
        "self",
        verbose_name=_("补办新卡"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaces",
    )
    note = models.CharField(_("备注"), max_length=255, blank=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("IC卡")
        verbose_name_plural = _("IC卡")
        ordering = ["-issued_at"]
        permissions = [("manage_card", "可以办理IC卡（挂失、补办、注销）")]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "permit"],
                condition=Q(status="active"),
                name="one_active_card_per_permit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.uid}（{self.enterprise}）"

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id


class CardSwipe(ScopedModel):
    """One swipe at a logger (or through the API), whatever its outcome."""

    card = models.ForeignKey(
        Card, verbose_name=_("IC卡"), null=True, blank=True, on_delete=models.PROTECT, related_name="swipes"
    )
    card_uid = models.CharField(_("卡号UID"), max_length=32)
    logger = models.ForeignKey(
        "registry.DataLogger", verbose_name=_("数采仪"), on_delete=models.PROTECT, related_name="+"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="+"
    )
    swiped_at = models.DateTimeField(_("刷卡时间"))
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    channel = models.CharField(_("来源"), max_length=8, choices=c.SwipeChannel.choices)
    outcome = models.CharField(_("结果"), max_length=24, choices=c.SwipeOutcome.choices)
    loaded = models.JSONField(_("加载量"), default=dict, blank=True)
    remaining = models.JSONField(_("本月余量"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=255, blank=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"
    scope_logger = "logger"

    class Meta:
        verbose_name = _("刷卡记录")
        verbose_name_plural = _("刷卡记录")
        ordering = ["-swiped_at"]

    def __str__(self) -> str:
        return f"{self.card_uid} {self.swiped_at:%Y-%m-%d %H:%M} {self.get_outcome_display()}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Transfer(ScopedModel):
    """Quota bought from another enterprise (or an adjustment 调剂 between months of one enterprise),
    approved by the regulator before anything moves."""

    from_enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("转出单位"), on_delete=models.PROTECT, related_name="+"
    )
    to_enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("转入单位"), on_delete=models.PROTECT, related_name="+"
    )
    pollutant = models.ForeignKey("registry.Pollutant", verbose_name=_("污染物"), on_delete=models.PROTECT)
    year = models.PositiveSmallIntegerField(_("年度"))
    from_month = models.PositiveSmallIntegerField(
        _("转出月份"), null=True, blank=True, help_text=_("为空表示从年度指标转出")
    )
    to_month = models.PositiveSmallIntegerField(
        _("转入月份"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    amount = quantity(_("数量"), validators=[MinValueValidator(Decimal("0.0001"))])
    price = models.DecimalField(_("价格（元）"), max_digits=16, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("理由"), max_length=255)
    status = models.CharField(
        _("状态"), max_length=16, choices=c.TransferStatus.choices, default=c.TransferStatus.REQUESTED
    )
    requested_by = actor(_("申请人"))
    reviewed_by = actor(_("审批人"), blank=True)
    reviewed_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    review_note = models.CharField(_("审批意见"), max_length=255, blank=True)

    scope_jurisdiction = "to_enterprise__jurisdiction__path"
    scope_enterprise = "to_enterprise"

    class Meta:
        verbose_name = _("配额调剂与转让")
        verbose_name_plural = _("配额调剂与转让")
        ordering = ["-created_at"]
        permissions = [("approve_transfer", "可以审批配额调剂与转让")]

    def __str__(self) -> str:
        return f"{self.from_enterprise} → {self.to_enterprise} {self.amount}"

    @property
    def is_adjustment(self) -> bool:
        return self.from_enterprise_id == self.to_enterprise_id

    def clean(self) -> None:
        if self.is_adjustment and self.from_month is None:
            raise ValidationError({"from_month": _("同一单位的调剂须指定转出月份。")})
        if self.is_adjustment and self.from_month == self.to_month:
            raise ValidationError({"to_month": _("调剂的转入月份不能与转出月份相同。")})

    def event_scope(self) -> tuple[str, int | None]:
        return self.to_enterprise.jurisdiction.path, self.to_enterprise_id


# --- valve orders ---------------------------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ValveOrder(ScopedModel):
    """An order to close or open a valve, from request to physical confirmation.

    A manual order needs a second authorised regulator to approve it; the requester never can.
    "Sent" is not "closed": the order is *confirmed* only by the reported valve state and the
    outlet's flow falling to zero in the next data.
    """

    valve = models.ForeignKey(
        "registry.Valve", verbose_name=_("阀门"), on_delete=models.PROTECT, related_name="orders"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=8, choices=c.ValveAction.choices)
    origin = models.CharField(_("来源"), max_length=16, choices=c.ValveOrderOrigin.choices)
    state = models.CharField(
        _("状态"), max_length=16, choices=c.ValveOrderState.choices, default=c.ValveOrderState.REQUESTED
    )
    reason = models.CharField(_("原因"), max_length=255)
    account = models.ForeignKey(
        QuotaAccount,
        verbose_name=_("相关配额账户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_by = actor(_("发起人"), blank=True)
    approved_by = actor(_("批准人"), blank=True)
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    not_before = models.DateTimeField(_("最早执行时间"), null=True, blank=True, help_text=_("宽限期"))
    expires_at = models.DateTimeField(_("失效时间"))
    command_id = models.BigIntegerField(_("反控指令ID"), null=True, blank=True)
    sent_at = models.DateTimeField(_("下发时间"), null=True, blank=True)
    executed_at = models.DateTimeField(_("执行时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    evidence = models.JSONField(_("证据"), default=dict, blank=True)
    failure = models.CharField(_("失败原因"), max_length=255, blank=True)

    scope_jurisdiction = "enterprise__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("阀门指令")
        verbose_name_plural = _("阀门指令")
        ordering = ["-created_at"]
        permissions = [
            ("request_valveorder", "可以发起阀门指令"),
            ("approve_valveorder", "可以审批阀门指令"),
        ]
        indexes = [models.Index(fields=["state", "not_before"], name="valveorder_due_idx")]

    def __str__(self) -> str:
        return f"{self.valve} {self.get_action_display()} · {self.get_state_display()}"

    def event_scope(self) -> tuple[str, int | None]:
        return self.enterprise.jurisdiction.path, self.enterprise_id


class Settlement(ScopedModel):
    """The month-end (or year-end) settlement of one monthly (annual) account."""

    account = models.OneToOneField(
        QuotaAccount, verbose_name=_("账户"), on_delete=models.PROTECT, related_name="settlement"
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise", verbose_name=_("排污单位"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"), null=True, blank=True)
    allowance = quantity(_("配额"))
    used = quantity(_("排放量"))
    remaining = quantity(_("余量"))
    overrun = quantity(_("超量"))
    carried = quantity(_("结转/退回/作废"), default=ZERO)
    penalty = quantity(_("处罚扣减"), default=ZERO)
    permitted = quantity(_("年许可排放量"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), auto_now_add=True)

    scope_jurisdiction = "account__jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("结算")
        verbose_name_plural = _("结算")
        ordering = ["-year", "-month"]

    def __str__(self) -> str:
        period = f"{self.year}-{self.month:02d}" if self.month else f"{self.year}"
        return f"{self.account} {period}"
