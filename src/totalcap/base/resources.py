"""Declare a model's UI pages and API once; get URL patterns and a viewset.

A :class:`Resource` names the form, filterset, table and serializer of one scoped model. Its
:meth:`urls` gives list / detail / create / update / delete pages built on the base views, and
:meth:`viewset` gives the base viewset — so every page and endpoint goes through the single
enforcement point of scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.urls import URLPattern, path

from totalcap.base.api import ScopedModelViewSet
from totalcap.base.views import (
    ScopedCreateView,
    ScopedDeleteView,
    ScopedDetailView,
    ScopedListView,
    ScopedUpdateView,
)


@dataclass
class Resource:
    model: type[models.Model]
    table_class: Any
    filterset_class: Any
    serializer_class: Any
    form_class: Any = None
    detail_fields: tuple[str, ...] = ()
    detail_template: str = "base/detail.html"
    list_template: str = "base/list.html"
    editable: bool = True
    deletable: bool = True
    select_related: tuple[str, ...] = ()
    views: dict[str, Any] = field(default_factory=dict)  # overrides by page name

    @property
    def name(self) -> str:
        return str(self.model._meta.model_name)

    def queryset_hook(self, qs: models.QuerySet[Any]) -> models.QuerySet[Any]:
        return qs.select_related(*self.select_related) if self.select_related else qs

    def _view(self, page: str, base: Any, **attrs: Any) -> Any:
        if page in self.views:
            return self.views[page].as_view()
        resource = self

        def get_queryset(view: Any) -> Any:
            return resource.queryset_hook(base.get_queryset(view))

        attrs.setdefault("get_queryset", get_queryset)
        cls: Any = type(f"{self.model.__name__}{base.__name__}", (base,), {"model": self.model, **attrs})
        return cls.as_view()

    def urls(self) -> list[URLPattern]:
        n = self.name
        patterns = [
            path(
                f"{n}/",
                self._view(
                    "list",
                    ScopedListView,
                    table_class=self.table_class,
                    filterset_class=self.filterset_class,
                    template_name=self.list_template,
                ),
                name=f"{n}-list",
            ),
            path(
                f"{n}/<int:pk>/",
                self._view(
                    "detail",
                    ScopedDetailView,
                    detail_fields=self.detail_fields,
                    template_name=self.detail_template,
                ),
                name=f"{n}-detail",
            ),
        ]
        if self.editable and self.form_class is not None:
            patterns += [
                path(
                    f"{n}/new/",
                    self._view("create", ScopedCreateView, form_class=self.form_class),
                    name=f"{n}-create",
                ),
                path(
                    f"{n}/<int:pk>/edit/",
                    self._view("update", ScopedUpdateView, form_class=self.form_class),
                    name=f"{n}-update",
                ),
            ]
        if self.deletable:
            patterns.append(
                path(f"{n}/<int:pk>/delete/", self._view("delete", ScopedDeleteView), name=f"{n}-delete")
            )
        return patterns

    def viewset(self) -> type[ScopedModelViewSet]:
        resource = self
        http_methods = ["get", "head", "options"]
        if self.editable:
            http_methods += ["post", "put", "patch"]
        if self.deletable:
            http_methods.append("delete")

        def get_queryset(view: Any) -> Any:
            return resource.queryset_hook(ScopedModelViewSet.get_queryset(view))

        return type(
            f"{self.model.__name__}ViewSet",
            (ScopedModelViewSet,),
            {
                "model": self.model,
                "serializer_class": self.serializer_class,
                "filterset_class": self.filterset_class,
                "http_method_names": http_methods,
                "get_queryset": get_queryset,
                "__doc__": f"{self.model._meta.verbose_name}: list, read"
                + (", create, update" if self.editable else "")
                + (", delete" if self.deletable else "")
                + " — scoped to the caller's jurisdiction or enterprise.",
            },
        )
