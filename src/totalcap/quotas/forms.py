"""Total-control forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q

from totalcap.base.forms import ScopedForm, ScopedModelForm
from totalcap.quotas.choices import AllocationMethod, Granularity, ValveAction, ValveOrderOrigin
from totalcap.quotas.models import RegionTotal, SpecialPeriod
from totalcap.registry.models import Enterprise, Outlet, Pollutant, Valve

MONTHS = range(1, 13)


class RegionTotalForm(ScopedModelForm):
    class Meta:
        model = RegionTotal
        fields = [
            "jurisdiction", "pollutant", "year", "total", "unit", "baseline", "reduction_target_pct",
            "quality_factor_pct", "note",
        ]  # fmt: skip


class SpecialPeriodForm(ScopedModelForm):
    class Meta:
        model = SpecialPeriod
        fields = ["jurisdiction", "kind", "label", "start", "end", "reduction_pct", "pollutants"]
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}),
            "end": forms.DateInput(attrs={"type": "date"}),
        }


class AllocationProposalForm(ScopedForm):
    method = forms.ChoiceField(label="分配方法", choices=AllocationMethod.choices)
    keep_reserve_pct = forms.DecimalField(
        label="预留储备(%)", min_value=0, max_value=100, initial=Decimal("5")
    )

    def __init__(
        self, *args: Any, enterprises: list[Enterprise], bases: dict[int, Decimal], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.enterprises = enterprises
        for e in enterprises:
            self.fields[f"basis_{e.pk}"] = forms.DecimalField(
                label=e.name,
                min_value=0,
                required=False,
                initial=bases.get(e.pk),
                decimal_places=4,
                max_digits=20,
            )
        from totalcap.base.forms import style_widgets

        style_widgets(self)

    def bases(self) -> dict[int, tuple[Decimal, str]]:
        result = {}
        for e in self.enterprises:
            value = self.cleaned_data.get(f"basis_{e.pk}")
            if value is not None:
                result[e.pk] = (value, "")
        return result


class PeriodPlanForm(ScopedForm):
    enterprise = forms.ModelChoiceField(label="排污单位", queryset=Enterprise.objects.all())
    outlet = forms.ModelChoiceField(
        label="排放口（为空表示全厂）", queryset=Outlet.objects.all(), required=False
    )
    pollutant = forms.ModelChoiceField(
        label="污染物", queryset=Pollutant.objects.filter(Q(is_total_control=True) | Q(is_flow=True))
    )
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    granularity = forms.ChoiceField(label="计划周期", choices=Granularity.choices, initial=Granularity.MONTH)
    annual = forms.DecimalField(
        label="年度总量（填写则平均分配到各月）", required=False, min_value=0, decimal_places=4, max_digits=20
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for m in MONTHS:
            self.fields[f"m{m}"] = forms.DecimalField(
                label=f"{m}月", required=False, min_value=0, decimal_places=4, max_digits=20
            )
        from totalcap.base.forms import style_widgets

        style_widgets(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        months = [data.get(f"m{m}") for m in MONTHS]
        if data.get("annual") is None and any(v is None for v in months):
            raise forms.ValidationError("请填写年度总量（平均分配），或逐月填写1至12月的计划量。")
        outlet = data.get("outlet")
        enterprise = data.get("enterprise")
        if outlet is not None and enterprise is not None and outlet.enterprise_id != enterprise.pk:
            self.add_error("outlet", "排放口不属于所选排污单位。")
        return data

    def months(self) -> dict[int, Decimal]:
        from totalcap.quotas.services.plans import even_split

        if self.cleaned_data.get("annual") is not None:
            return even_split(self.cleaned_data["annual"], self.cleaned_data["granularity"])
        return {m: self.cleaned_data[f"m{m}"] for m in MONTHS}


class CardIssueForm(ScopedForm):
    enterprise = forms.ModelChoiceField(label="排污单位", queryset=Enterprise.objects.all())
    uid = forms.CharField(label="卡号UID", max_length=32)
    note = forms.CharField(label="备注", required=False, max_length=255)


class TransferForm(ScopedForm):
    from_enterprise = forms.ModelChoiceField(label="转出单位", queryset=Enterprise.objects.all())
    to_enterprise = forms.ModelChoiceField(label="转入单位", queryset=Enterprise.objects.all())
    pollutant = forms.ModelChoiceField(label="污染物", queryset=Pollutant.objects.all())
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    from_month = forms.IntegerField(
        label="转出月份（为空表示年度指标）", required=False, min_value=1, max_value=12
    )
    to_month = forms.IntegerField(label="转入月份", min_value=1, max_value=12)
    amount = forms.DecimalField(label="数量", min_value=Decimal("0.0001"), decimal_places=4, max_digits=20)
    price = forms.DecimalField(
        label="价格（元，转让时填写）", required=False, min_value=0, decimal_places=2, max_digits=16
    )
    reason = forms.CharField(label="理由", max_length=255)


class ValveOrderForm(ScopedForm):
    valve = forms.ModelChoiceField(label="阀门", queryset=Valve.objects.all())
    action = forms.ChoiceField(label="动作", choices=ValveAction.choices)
    origin = forms.ChoiceField(
        label="来源",
        choices=[
            (ValveOrderOrigin.MANUAL, ValveOrderOrigin.MANUAL.label),
            (ValveOrderOrigin.SUSPENSION, ValveOrderOrigin.SUSPENSION.label),
        ],
    )
    reason = forms.CharField(label="原因", max_length=255)
