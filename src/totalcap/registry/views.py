"""Registry pages that need more than the generic base views."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from totalcap.base import services
from totalcap.base.exceptions import ServiceError
from totalcap.base.views import ScopedCreateView, ScopedUpdateView
from totalcap.registry.forms import EmissionStandardForm, StandardLimitFormSet
from totalcap.registry.models import EmissionStandard


class StandardFormMixin:
    """A standard and its limit rows on one page; a standard without limits is refused."""

    model = EmissionStandard
    form_class = EmissionStandardForm
    template_name = "registry/standard_form.html"
    request: Any
    object: Any

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if "formset" not in kwargs:
            context["formset"] = StandardLimitFormSet(
                instance=getattr(self, "object", None) or EmissionStandard()
            )
        return context

    def form_valid(self, form: Any) -> HttpResponse:
        formset = StandardLimitFormSet(self.request.POST, instance=form.instance)
        if not formset.is_valid():
            return self.render_to_response(self.get_context_data(form=form, formset=formset))  # type: ignore[attr-defined]

        def write(_obj: Any) -> EmissionStandard:
            standard = form.save()
            formset.instance = standard
            formset.save()
            if not standard.limits.exists():
                raise ServiceError("排放标准至少需要一条限值。", code="standard_without_limits")
            return standard

        try:
            with transaction.atomic():
                self.object = services.save_object(self.request.user, form.instance, write=write)
        except ServiceError as exc:
            form.add_error(None, exc.message)
            return self.render_to_response(self.get_context_data(form=form, formset=formset))  # type: ignore[attr-defined]
        messages.success(self.request, "已保存。")
        return HttpResponseRedirect(reverse("registry:emissionstandard-detail", args=[self.object.pk]))


class StandardCreateView(StandardFormMixin, ScopedCreateView):
    pass


class StandardUpdateView(StandardFormMixin, ScopedUpdateView):
    pass
