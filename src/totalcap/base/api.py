"""Base API: the permission class, the scoped viewset and serializer, the error format.

Errors are JSON ``{"code": "...", "detail": "...", "errors": {"field": ["..."]}}``: ``code`` is a
stable English identifier, messages are Chinese (the users' language), ``errors`` maps fields to
their messages (400 on bad input).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models.deletion import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from totalcap.base import services
from totalcap.base.exceptions import ServiceError
from totalcap.base.permissions import ScopedModelPermission

__all__ = ["ScopedModelPermission", "ScopedModelSerializer", "ScopedModelViewSet", "exception_handler"]

ACTION_PERMISSIONS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
    "metadata": "view",
}


class ScopedModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose related fields only accept objects the user may see, and which runs
    the model's own validation (``full_clean``) so the API refuses what the forms refuse."""

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for field in fields.values():
            target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            queryset = getattr(target, "queryset", None)
            if queryset is not None and hasattr(queryset, "restrict"):
                target.queryset = queryset.restrict(user, None)  # type: ignore[attr-defined]
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model: type[models.Model] = self.Meta.model
        m2m = {f.name for f in model._meta.many_to_many}
        instance = model() if self.instance is None else model._default_manager.get(pk=self.instance.pk)
        for key, value in attrs.items():
            if key not in m2m:
                setattr(instance, key, value)
        try:
            instance.full_clean(exclude=list(m2m))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from exc
        return attrs


def _django_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        result: dict[str, list[str]] = {}
        for key, errors in exc.message_dict.items():
            result["non_field_errors" if key == "__all__" else key] = list(errors)
        return result
    return {"non_field_errors": list(exc.messages)}


class ScopedModelViewSet(viewsets.ModelViewSet):
    """CRUD over a scoped model; writes go through :mod:`totalcap.base.services`."""

    model: type[models.Model]
    action_permissions: dict[str, str] = {}

    def scope_action(self) -> str:
        action = self.action or "metadata"
        return self.action_permissions.get(action) or ACTION_PERMISSIONS.get(action, "view")

    def get_queryset(self) -> models.QuerySet[Any]:
        manager: Any = self.model._default_manager
        return manager.restrict(self.request.user, self.scope_action())

    def perform_create(self, serializer: Any) -> None:
        services.save_object(self.request.user, self.model(), write=lambda _o: serializer.save())

    def perform_update(self, serializer: Any) -> None:
        services.save_object(self.request.user, serializer.instance, write=lambda _o: serializer.save())

    def perform_destroy(self, instance: models.Model) -> None:
        services.delete_object(self.request.user, instance)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler producing the error format described in the module docstring."""
    if isinstance(exc, ServiceError):
        errors = {exc.field: [exc.message]} if exc.field else {}
        return Response({"code": exc.code, "detail": exc.message, "errors": errors}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        return Response(
            {"code": "invalid", "detail": "输入有误。", "errors": _django_errors(exc)},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, ProtectedError | RestrictedError):
        return Response(
            {"code": "protected", "detail": "该记录仍被其他数据引用，不能删除。", "errors": {}},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"code": "invalid", "detail": "输入有误。", "errors": data}
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(exc.detail),
            "errors": {},
        }
    return response
