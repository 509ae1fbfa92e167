"""The form regulators use to send a command (validation by the catalogue, sending by the service)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from totalcap.base.forms import style_widgets
from totalcap.ingest.catalogue import SPECS
from totalcap.registry.models import DataLogger


class SendCommandForm(forms.Form):
    logger = forms.ModelChoiceField(label="数采仪", queryset=DataLogger.objects.none())
    command = forms.ChoiceField(label="命令", choices=[(s.name, f"{s.cn} {s.label}") for s in SPECS])
    params = forms.CharField(
        label="参数（JSON）", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text='如 {"valve_id": 1, "reason": 2}；时间为北京时间 YYYYMMDDhhmmss',
    )  # fmt: skip
    expires_in_minutes = forms.IntegerField(
        label="有效期（分钟）", required=False, min_value=1, max_value=60 * 24 * 30
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["logger"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = DataLogger.objects.restrict(user, "view").select_related("outlet__enterprise")
        style_widgets(self)

    def clean_params(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("params") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError('参数应为 JSON 对象，例如 {"pol_id": "w01018"}。') from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("参数应为 JSON 对象。")
        return value
