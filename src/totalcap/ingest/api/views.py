"""Ingest API: raw frames, sessions and site information (read-only), commands (read, send, cancel)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from totalcap.base.api import ScopedModelViewSet
from totalcap.ingest import services
from totalcap.ingest.api.serializers import CommandSerializer, SendCommandSerializer
from totalcap.ingest.filtersets import CommandFilterSet
from totalcap.ingest.models import Command


class CommandViewSet(ScopedModelViewSet):
    """Reverse-control commands: list and read (scoped); ``POST`` sends one (``ingest.send_command``,
    plus ``ingest.control_valve`` for valve and allowance commands); ``POST {id}/cancel/`` withdraws
    one that has not been sent. "sent" only means the bytes left the gateway; wait for "executed"."""

    model = Command
    serializer_class = CommandSerializer
    filterset_class = CommandFilterSet
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"create": "send", "cancel": "send"}

    def get_queryset(self) -> Any:
        return super().get_queryset().select_related("logger")

    def get_serializer_class(self) -> Any:
        return SendCommandSerializer if self.action == "create" else CommandSerializer

    @extend_schema(request=SendCommandSerializer, responses={201: CommandSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = SendCommandSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        minutes = data.get("expires_in_minutes")
        command = services.send_command(
            request.user, data["logger"], data["command"], data.get("params") or {},
            expires_in=timedelta(minutes=minutes) if minutes else None, source="api",
            dedupe_key=data.get("dedupe_key"),
        )  # fmt: skip
        return Response(
            CommandSerializer(command, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: CommandSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        command = self.get_object()
        command = services.cancel_command(request.user, command)
        return Response(CommandSerializer(command, context={"request": request}).data)


@extend_schema(responses={200: dict})
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def command_types(request: Request) -> Response:
    """The command catalogue: name, CN, label, parameters (for clients building a send form)."""
    from totalcap.ingest.views import command_specs

    return Response(command_specs())
