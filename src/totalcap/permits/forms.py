"""Permit forms (labels and errors in Chinese; related choices limited to the user's scope)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from totalcap.base.forms import ScopedForm, ScopedModelForm
from totalcap.permits.models import ExecutionReport, PermitItem, PermitVersion, SpecialPeriodLimit
from totalcap.registry.choices import ManagementClass
from totalcap.registry.models import Enterprise, Outlet, Pollutant, StandardLimit


class ApplicationForm(ScopedForm):
    """Open a permit application for an enterprise the user may act for."""

    enterprise = forms.ModelChoiceField(Enterprise.objects.all(), label="排污单位")
    management_class = forms.ChoiceField(
        label="管理类别", choices=[("", "按排污单位登记的类别"), *ManagementClass.choices], required=False
    )
    reason = forms.CharField(label="申请说明", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ChangeForm(ScopedForm):
    reason = forms.CharField(label="变更事项", widget=forms.Textarea(attrs={"rows": 3}))
    fact_date = forms.DateField(
        label="变更事项发生日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="须在该日期起30日内提交变更申请",
    )
    management_class = forms.ChoiceField(
        label="变更后管理类别", choices=[("", "不变"), *ManagementClass.choices], required=False
    )

    def clean_fact_date(self) -> Any:
        value = self.cleaned_data["fact_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("变更事项发生日期不能晚于今天。")
        return value


class RenewalForm(ScopedForm):
    reason = forms.CharField(label="延续说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReapplyForm(ScopedForm):
    reason = forms.CharField(
        label="重新申请原因", widget=forms.Textarea(attrs={"rows": 3}),
        help_text="如：新建、改建、扩建；新增污染物种类；排放量增加；许可证过期后继续排污",
    )  # fmt: skip


class TransitionForm(ScopedForm):
    reason = forms.CharField(label="原因或意见", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PermitItemForm(ScopedModelForm):
    """One outlet × pollutant of a version; outlets limited to the version's enterprise."""

    class Meta:
        model = PermitItem
        fields = [
            "outlet", "pollutant", "standard_limit", "concentration_limit", "concentration_unit", "standard_name",
            "reference_o2", "committed_limit", "rate_limit_kg_per_h",
            "annual_volume_m3", "design_flow_m3_per_h", "operating_hours", "benchmark_m3_per_unit", "annual_output",
            "eia_t", "total_control_t", "technology_t", "beta", "daily_max_kg",
            "monitoring_mode", "monitoring_frequency", "note",
        ]  # fmt: skip
        help_texts = {
            "standard_limit": "留空且未填浓度限值时，按地方→行业→国家综合标准的优先顺序自动带出。",
            "concentration_limit": "留空时取所执行标准的限值。",
            "annual_volume_m3": "排放标准法：浓度限值×年排水（气）量；也可由设计流量×运行小时数或基准排水量×年产量计算。",
            "total_control_t": "总量控制模块接入前手工填写。",
            "technology_t": "由限值核定计算器应用时填写。",
        }

    def __init__(self, *args: Any, version: PermitVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.instance.version = version
        enterprise = version.permit.enterprise
        fields: dict[str, Any] = self.fields
        fields["outlet"].queryset = Outlet.objects.filter(enterprise=enterprise).order_by("code")
        fields["pollutant"].queryset = Pollutant.objects.filter(is_flow=False, medium__in=["water", "air"])
        fields["standard_limit"].queryset = StandardLimit.objects.select_related("standard", "pollutant")
        self.fields["standard_limit"].required = False


class SpecialPeriodLimitForm(ScopedModelForm):
    class Meta:
        model = SpecialPeriodLimit
        fields = [
            "kind", "outlet", "pollutant", "label", "alert_level", "hydro_period", "start_md", "end_md",
            "concentration_limit", "daily_kg", "monthly_t", "note",
        ]  # fmt: skip

    def __init__(self, *args: Any, version: PermitVersion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.instance.version = version
        fields: dict[str, Any] = self.fields
        fields["outlet"].queryset = Outlet.objects.filter(enterprise=version.permit.enterprise).order_by(
            "code"
        )
        fields["outlet"].empty_label = "全厂合计"
        fields["pollutant"].queryset = Pollutant.objects.filter(is_flow=False, medium__in=["water", "air"])


class ExecutionReportForm(ScopedModelForm):
    all_compliant = forms.NullBooleanField(
        label="报告期内全部达标",
        widget=forms.Select(choices=[("unknown", "请选择"), ("true", "是"), ("false", "否")]),
    )

    class Meta:
        model = ExecutionReport
        fields = ["summary", "all_compliant"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 8})}
