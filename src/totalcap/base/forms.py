"""Base form: related choices limited to what the user may see; Bootstrap widgets; Chinese errors."""

from __future__ import annotations

from typing import Any

from django import forms


def style_widgets(form: forms.BaseForm) -> None:
    """Give every widget the Bootstrap 5 class that fits it, and mark fields with errors."""
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        elif isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            css = ""
        else:
            css = "form-control"
        if form.is_bound and name in form.errors:
            css += " is-invalid"
        existing = widget.attrs.get("class", "")
        widget.attrs["class"] = f"{existing} {css}".strip()


def restrict_choices(fields: dict[str, Any], user: Any) -> None:
    """Limit every model-choice queryset to the rows ``user`` may see."""
    for field in fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and hasattr(queryset, "restrict"):
            field.queryset = queryset.restrict(user, None)


class ScopedModelForm(forms.ModelForm):
    """ModelForm for scoped models; pass ``user=`` (the base views do)."""

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        restrict_choices(self.fields, user)
        style_widgets(self)

    def full_clean(self) -> None:
        super().full_clean()
        style_widgets(self)


class ScopedForm(forms.Form):
    """Plain form with the same conveniences as :class:`ScopedModelForm`."""

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        restrict_choices(self.fields, user)
        style_widgets(self)

    def full_clean(self) -> None:
        super().full_clean()
        style_widgets(self)
