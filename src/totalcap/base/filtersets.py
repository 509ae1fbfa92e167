"""Base filterset: one FilterSet serves a UI list and its API list.

Choices of related-object filters are limited to what the requesting user may see, so a filter
can neither show nor accept another jurisdiction's objects. ``search_fields`` adds a ``q`` filter.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import Q, QuerySet

from totalcap.base.forms import style_widgets


class ScopedFilterSet(django_filters.FilterSet):
    """FilterSet whose related choices obey the user's scope."""

    search_fields: ClassVar[tuple[str, ...]] = ()
    q = django_filters.CharFilter(label="搜索", method="filter_search")

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        for flt in self.filters.values():
            qs = getattr(flt, "queryset", None)
            if qs is not None and not callable(qs) and hasattr(qs, "restrict"):
                flt.queryset = qs.restrict(user, None)
        if not self.search_fields:
            self.filters.pop("q", None)

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    @property
    def form(self) -> Any:
        form = super().form
        style_widgets(form)
        return form
