"""Base views — with the base viewset, form and filterset, the only places where scope is applied.

Every list, detail, create, update and delete page of a scoped model subclasses one of these:

* anonymous users are sent to the login page;
* users without the Django permission for the action get 403;
* objects outside the user's jurisdiction or enterprise are not found (404) and never listed;
* writes go through :mod:`totalcap.base.services`, which re-checks the scope after the write,
  inside the transaction, and rolls back when the object would leave it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views import generic
from django_filters.views import FilterView
from django_tables2.export.views import ExportMixin
from django_tables2.views import SingleTableMixin

from totalcap.base import services
from totalcap.base.exceptions import ServiceError
from totalcap.base.history import history_for
from totalcap.base.scope import permission_name


@lru_cache(maxsize=512)
def _url_exists(name: str) -> bool:
    for args in ((), (0,)):
        try:
            reverse(name, args=args)
            return True
        except NoReverseMatch:
            continue
    return False


class ScopedMixin(LoginRequiredMixin):
    """Authentication, permission and scope for views of one scoped model."""

    model: type[models.Model]
    scope_action: str = "view"
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_perm(permission_name(self.model, self.scope_action)):
            raise PermissionDenied(_("您没有执行此操作的权限。"))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> models.QuerySet[Any]:
        manager: Any = self.model._default_manager
        return manager.restrict(self.request.user, self.scope_action)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        opts = self.model._meta
        context["opts"] = opts
        context["model_name"] = opts.verbose_name
        context["model_name_plural"] = opts.verbose_name_plural
        user = self.request.user
        context["can_add"] = user.has_perm(permission_name(self.model, "add"))
        context["can_change"] = user.has_perm(permission_name(self.model, "change"))
        context["can_delete"] = user.has_perm(permission_name(self.model, "delete"))
        context["url_names"] = self.url_names()
        return context

    @classmethod
    def url_names(cls) -> dict[str, str]:
        """URL names that exist for this model: ``<app>:<model>-<list|detail|create|update|delete>``."""
        opts = cls.model._meta
        base = f"{opts.app_label}:{opts.model_name}"
        return {
            k: f"{base}-{k}"
            for k in ("list", "detail", "create", "update", "delete")
            if _url_exists(f"{base}-{k}")
        }


class ScopedListView(ScopedMixin, ExportMixin, SingleTableMixin, FilterView):
    """Filterable, searchable, paginated, exportable list (``?_export=xlsx``)."""

    template_name = "base/list.html"
    paginate_by = 25
    export_formats = ("xlsx", "csv")
    export_name = "export"

    def get_template_names(self) -> list[str]:
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:  # type: ignore[attr-defined]
            return [f"{self.template_name}#results"]
        return [self.template_name]

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.model._meta.model_name}.{export_format}"


class ScopedDetailView(ScopedMixin, generic.DetailView):
    """Detail page with the object's change history (field diffs and domain events)."""

    template_name = "base/detail.html"
    detail_fields: tuple[str, ...] = ()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        obj = self.object
        context["history"] = history_for(obj)
        context["fields"] = [
            (obj._meta.get_field(name).verbose_name, _display_value(obj, name))
            for name in (self.detail_fields or [f.name for f in obj._meta.concrete_fields])
        ]
        return context


def _display_value(obj: models.Model, name: str) -> Any:
    getter = getattr(obj, f"get_{name}_display", None)
    if callable(getter):
        return getter()
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return "、".join(str(o) for o in getattr(obj, name).all())
    value = getattr(obj, name)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return "" if value is None else value


class ScopedFormMixin(ScopedMixin):
    """Create and update through :func:`services.save_object` (event + scope re-check)."""

    template_name = "base/form.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self) -> dict[str, Any]:
        """Query parameters named like form fields pre-fill a new object (``?enterprise=12``)."""
        initial: dict[str, Any] = dict(super().get_initial())
        if self.scope_action == "add":
            for key, value in self.request.GET.items():
                initial.setdefault(key, value)
        return initial

    def form_valid(self, form: Any) -> HttpResponse:
        try:
            self.object = services.save_object(self.request.user, form.instance, write=lambda _o: form.save())
        except ServiceError as exc:
            if form.instance.pk is not None and self.scope_action == "add":
                form.instance.pk = None
                form.instance._state.adding = True
            form.add_error(exc.field, exc.message)
            return self.form_invalid(form)  # type: ignore[attr-defined]
        messages.success(self.request, _("已保存。"))
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        return reverse(self.url_names()["detail"], args=[self.object.pk])


class ScopedCreateView(ScopedFormMixin, generic.CreateView):
    scope_action = "add"


class ScopedUpdateView(ScopedFormMixin, generic.UpdateView):
    scope_action = "change"


class ScopedDeleteView(ScopedMixin, generic.DeleteView):
    scope_action = "delete"
    template_name = "base/confirm_delete.html"

    def form_valid(self, form: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            services.delete_object(self.request.user, obj)
        except (ProtectedError, RestrictedError):
            messages.error(self.request, _("该记录仍被其他数据引用，不能删除。"))
            return HttpResponseRedirect(reverse(self.url_names()["detail"], args=[obj.pk]))
        except ServiceError as exc:
            messages.error(self.request, exc.message)
            return HttpResponseRedirect(reverse(self.url_names()["detail"], args=[obj.pk]))
        messages.success(self.request, _("已删除。"))
        return HttpResponseRedirect(reverse(self.url_names()["list"]))


class TransitionActionView(LoginRequiredMixin, generic.View):
    """POST ``<pk>/<action>/``: apply a life-cycle action to an object the user may see.

    Subclasses set ``model`` and ``actions`` (action name → callable(actor, obj, params) → obj).
    The object is looked up through ``restrict(user, "view")`` (404 outside scope); the service
    checks permission and state (403 / message).
    """

    model: type[models.Model]
    actions: dict[str, Any] = {}

    def post(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        from django.shortcuts import get_object_or_404

        from totalcap.base.exceptions import PermissionRefused

        manager: Any = self.model._default_manager
        obj = get_object_or_404(manager.restrict(request.user, "view"), pk=pk)
        handler = self.actions.get(action)
        if handler is None:
            raise PermissionDenied(_("未知的操作。"))
        params = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
        try:
            result = handler(request.user, obj, params)
            messages.success(request, _("操作已完成。"))
        except PermissionRefused as exc:
            raise PermissionDenied(exc.message) from exc
        except ServiceError as exc:
            messages.error(request, exc.message)
            result = obj
        target = result if isinstance(result, models.Model) and hasattr(result, "get_absolute_url") else obj
        return HttpResponseRedirect(target.get_absolute_url())
