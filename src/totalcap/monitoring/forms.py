"""Forms of the monitoring pages (Chinese labels and errors from the models)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from totalcap.base.forms import ScopedForm, ScopedModelForm
from totalcap.monitoring.choices import ReviewKind, ReviewLevel, RuleKind, RuleMedium
from totalcap.monitoring.models import AccountingPlan, ManualMeasurement, OutletMonitoringConfig
from totalcap.registry.models import Outlet, Pollutant

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several evidence files at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ReviewForm(ScopedForm):
    """Mark values invalid or correct them, with a reason and evidence."""

    outlet = forms.ModelChoiceField(label="排放口", queryset=Outlet.objects.all())
    pollutant = forms.ModelChoiceField(
        label="监测因子", queryset=Pollutant.objects.all(), to_field_name="code", required=False,
        help_text="留空表示该排放口全部因子（仅限判为无效）",
    )  # fmt: skip
    level = forms.ChoiceField(label="数据级别", choices=ReviewLevel.choices, initial=ReviewLevel.HOUR)
    kind = forms.ChoiceField(label="复核结论", choices=ReviewKind.choices)
    start = forms.DateTimeField(label="起始时间", widget=DATETIME)
    end = forms.DateTimeField(label="结束时间（不含）", widget=DATETIME)
    value = forms.DecimalField(label="修正值", required=False, max_digits=20, decimal_places=6)
    reason = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}))
    evidence = MultipleFileField(label="证据文件", required=False)


class RevertForm(forms.Form):
    reason = forms.CharField(label="撤销理由", max_length=255)


class SuspicionActionForm(forms.Form):
    note = forms.CharField(label="处理说明", max_length=255, required=False)


class ManualMeasurementForm(ScopedModelForm):
    class Meta:
        model = ManualMeasurement
        fields = [
            "outlet", "pollutant", "kind", "sampled_at", "period_start", "period_end", "concentration", "unit",
            "flow_m3_h", "lab", "report_no", "note",
        ]  # fmt: skip
        widgets = {"sampled_at": DATETIME, "period_start": DATETIME, "period_end": DATETIME}


class ManualImportForm(forms.Form):
    file = forms.FileField(label="Excel文件（.xlsx）")


class OutletMonitoringConfigForm(ScopedModelForm):
    class Meta:
        model = OutletMonitoringConfig
        fields = [
            "outlet", "validity_rules", "substitution_rules", "screening_rules", "minute_interval",
            "concentration_basis", "flow_basis", "reference_o2", "atmospheric_kpa", "measuring_ranges",
            "ppm_pollutants", "note",
        ]  # fmt: skip


class AccountingPlanForm(ScopedModelForm):
    class Meta:
        model = AccountingPlan
        fields = [
            "outlet", "pollutant", "automatic_required", "manual_validity_days", "material_balance_kg_h",
            "emission_factor_kg_h", "untreated_kg_h", "manual_before_substitution", "take_larger", "note",
        ]  # fmt: skip


class PublishRuleSetForm(forms.Form):
    """A new version of a rule set (parameters as JSON; missing keys keep the shipped defaults)."""

    kind = forms.ChoiceField(label="规则类型", choices=RuleKind.choices)
    code = forms.SlugField(label="规则编码", max_length=48)
    name = forms.CharField(label="名称", max_length=128)
    medium = forms.ChoiceField(label="介质", choices=RuleMedium.choices)
    params = forms.CharField(
        label="参数（JSON）", widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace"})
    )
    is_default = forms.BooleanField(label="设为该介质的默认规则", required=False)
    source = forms.CharField(label="依据", max_length=255, required=False)
    note = forms.CharField(label="说明", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_params(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["params"])
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"参数不是有效的JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}。"
            ) from exc
        if not isinstance(value, dict):
            raise ValidationError("参数应为JSON对象。")
        return value


class MonthForm(forms.Form):
    month = forms.DateField(label="月份", input_formats=["%Y-%m", "%Y-%m-%d"], required=False)

    def month_or(self, default: dt.date) -> dt.date:
        if self.is_valid() and self.cleaned_data.get("month"):
            return self.cleaned_data["month"].replace(day=1)
        return default.replace(day=1)
