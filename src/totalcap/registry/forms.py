"""Registry forms (Chinese labels and errors come from the models and validators)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import inlineformset_factory

from totalcap.base.forms import ScopedModelForm, style_widgets
from totalcap.registry.models import (
    Camera,
    DataLogger,
    EmissionStandard,
    Enterprise,
    EnterpriseContact,
    Outlet,
    StandardLimit,
    Valve,
)


class EnterpriseForm(ScopedModelForm):
    class Meta:
        model = Enterprise
        fields = [
            "credit_code", "name", "short_name", "address", "longitude", "latitude", "industry",
            "jurisdiction", "management_class", "legal_representative", "status",
        ]  # fmt: skip


class EnterpriseContactForm(ScopedModelForm):
    class Meta:
        model = EnterpriseContact
        fields = ["enterprise", "name", "title", "phone", "email", "is_primary", "receives_alarms"]


class OutletForm(ScopedModelForm):
    class Meta:
        model = Outlet
        fields = [
            "enterprise", "code", "name", "medium", "category", "discharge_mode", "destination",
            "source_type", "longitude", "latitude", "standards", "status",
        ]  # fmt: skip


class DataLoggerForm(ScopedModelForm):
    password = forms.CharField(
        label="访问密码PW",
        required=False,
        max_length=64,
        widget=forms.PasswordInput(render_value=False),
        help_text="新建时必填；修改时留空表示不变。HJ 212以明文传输密码，平台加密保存。",
    )

    class Meta:
        model = DataLogger
        fields = [
            "mn", "name", "outlet", "password", "protocol_version", "crc_mode", "system_code", "pollutants",
            "is_total_control", "init_on_connect", "overtime_seconds", "recount", "ack_when_flag_absent",
            "manufacturer", "model_name", "status",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._old_password = self.instance.password if self.instance.pk else None

    def clean_password(self) -> str:
        value = self.cleaned_data.get("password") or ""
        if not value:
            if self._old_password is None:
                raise forms.ValidationError("请填写访问密码。")
            return self._old_password
        return value


class ValveForm(ScopedModelForm):
    class Meta:
        model = Valve
        fields = ["outlet", "logger", "code", "name"]


class CameraForm(ScopedModelForm):
    class Meta:
        model = Camera
        fields = ["enterprise", "outlet", "code", "name", "location", "stream_url"]


class EmissionStandardForm(ScopedModelForm):
    class Meta:
        model = EmissionStandard
        fields = ["code", "name", "level", "medium", "region", "industries", "effective_date", "note"]
        widgets = {"effective_date": forms.DateInput(attrs={"type": "date"})}


class StandardLimitForm(forms.ModelForm):
    class Meta:
        model = StandardLimit
        fields = [
            "pollutant",
            "limit_value",
            "unit",
            "discharge_mode",
            "source_type",
            "reference_o2",
            "averaging",
            "note",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_widgets(self)


StandardLimitFormSet = inlineformset_factory(
    EmissionStandard,
    StandardLimit,
    form=StandardLimitForm,
    extra=1,
    min_num=1,
    validate_min=True,
    can_delete=True,
)
