"""Alarm API: list and read alarms and deliveries (scoped), acknowledge and clear, in-app inbox."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from totalcap.alarms import services
from totalcap.alarms.api.serializers import AlarmSerializer, ClearSerializer, NotificationSerializer
from totalcap.alarms.filtersets import AlarmFilterSet
from totalcap.alarms.models import Alarm, InAppNotification
from totalcap.base.api import ScopedModelViewSet


class AlarmViewSet(ScopedModelViewSet):
    """Alarms in the caller's scope; `acknowledge` and `clear` follow the alarm life cycle."""

    model = Alarm
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"acknowledge": "view", "clear": "view"}

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("enterprise")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(
            {"code": "method_not_allowed", "detail": "报警由系统产生，不能直接创建。", "errors": {}},
            status=405,
        )

    @extend_schema(request=None, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        alarm = services.acknowledge(request.user, self.get_object())
        return Response(AlarmSerializer(alarm, context=self.get_serializer_context()).data)

    @extend_schema(request=ClearSerializer, responses=AlarmSerializer)
    @action(detail=True, methods=["post"])
    def clear(self, request: Request, pk: str | None = None) -> Response:
        data = ClearSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alarm = services.clear(request.user, self.get_object(), data.validated_data.get("reason", ""))
        return Response(AlarmSerializer(alarm, context=self.get_serializer_context()).data)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own in-app messages."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self) -> Any:
        return InAppNotification.objects.filter(user=self.request.user)
