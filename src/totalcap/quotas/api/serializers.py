"""Total-control API serializers (reads) and input serializers for the use cases."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from totalcap.base.api import ScopedModelSerializer
from totalcap.quotas.choices import AllocationMethod, Granularity, ValveAction, ValveOrderOrigin
from totalcap.quotas.models import (
    AllocationLine,
    AllocationPlan,
    Card,
    CardSwipe,
    LedgerEntry,
    PeriodPlan,
    PeriodPlanLine,
    QuotaAccount,
    RegionTotal,
    Settlement,
    SpecialPeriod,
    Transfer,
    ValveOrder,
)


class RegionTotalSerializer(ScopedModelSerializer):
    class Meta:
        model = RegionTotal
        fields = [
            "id", "jurisdiction", "pollutant", "year", "total", "unit", "baseline", "reduction_target_pct",
            "quality_factor_pct", "status", "note",
        ]  # fmt: skip
        read_only_fields = ["status"]


class AllocationLineSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = AllocationLine
        fields = ["id", "enterprise", "enterprise_name", "basis", "basis_note", "proposed", "final"]
        read_only_fields = ["basis", "basis_note", "proposed"]


class AllocationPlanSerializer(ScopedModelSerializer):
    lines = AllocationLineSerializer(many=True, read_only=True)

    class Meta:
        model = AllocationPlan
        fields = [
            "id",
            "region_total",
            "method",
            "keep_reserve_pct",
            "status",
            "approved_by",
            "approved_at",
            "lines",
        ]
        read_only_fields = fields


class ProposalInput(serializers.Serializer):
    region_total = serializers.IntegerField()
    method = serializers.ChoiceField(choices=AllocationMethod.choices)
    keep_reserve_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, default=Decimal("5")
    )
    bases = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0),
                                  help_text="enterprise id → basis value")  # fmt: skip


class LineEditInput(serializers.Serializer):
    line = serializers.IntegerField()
    final = serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0)


class PeriodPlanLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PeriodPlanLine
        fields = ["month", "amount"]


class PeriodPlanSerializer(ScopedModelSerializer):
    lines = PeriodPlanLineSerializer(many=True, read_only=True)

    class Meta:
        model = PeriodPlan
        fields = [
            "id",
            "enterprise",
            "outlet",
            "pollutant",
            "year",
            "granularity",
            "status",
            "review_note",
            "lines",
        ]
        read_only_fields = fields


class PeriodPlanInput(serializers.Serializer):
    enterprise = serializers.IntegerField()
    outlet = serializers.IntegerField(required=False, allow_null=True)
    pollutant = serializers.CharField(help_text="pollutant code, e.g. w01018")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    granularity = serializers.ChoiceField(choices=Granularity.choices, default=Granularity.MONTH)
    annual = serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0, required=False,
                                      help_text="split evenly when given")  # fmt: skip
    months = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=4, min_value=0),
                                   required=False, help_text="month (1-12) → amount")  # fmt: skip

    def validate(self, attrs: dict) -> dict:
        if attrs.get("annual") is None and not attrs.get("months"):
            raise serializers.ValidationError({"months": ["请给出年度总量（平均分配）或逐月计划量。"]})
        return attrs


class NoteInput(serializers.Serializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class SpecialPeriodSerializer(ScopedModelSerializer):
    class Meta:
        model = SpecialPeriod
        fields = [
            "id",
            "jurisdiction",
            "kind",
            "label",
            "start",
            "end",
            "reduction_pct",
            "pollutants",
            "applied",
        ]
        read_only_fields = ["applied"]


class QuotaAccountSerializer(ScopedModelSerializer):
    class Meta:
        model = QuotaAccount
        fields = [
            "id",
            "kind",
            "jurisdiction",
            "enterprise",
            "outlet",
            "pollutant",
            "year",
            "month",
            "unit",
            "balance",
            "alert_level",
        ]
        read_only_fields = fields


class LedgerEntrySerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="transaction.kind")
    key = serializers.CharField(source="transaction.key")
    memo = serializers.CharField(source="transaction.memo")
    occurred_at = serializers.DateTimeField(source="transaction.occurred_at")

    class Meta:
        model = LedgerEntry
        fields = ["id", "transaction", "kind", "key", "memo", "occurred_at", "amount"]


class CardSerializer(ScopedModelSerializer):
    class Meta:
        model = Card
        fields = ["id", "uid", "enterprise", "permit", "status", "issued_at", "replaced_by", "note"]
        read_only_fields = fields


class CardIssueInput(serializers.Serializer):
    enterprise = serializers.IntegerField()
    permit = serializers.IntegerField()
    uid = serializers.CharField(max_length=32)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CardActionInput(serializers.Serializer):
    new_uid = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class CardSwipeSerializer(ScopedModelSerializer):
    class Meta:
        model = CardSwipe
        fields = [
            "id",
            "card_uid",
            "logger",
            "enterprise",
            "swiped_at",
            "year",
            "month",
            "channel",
            "outcome",
            "loaded",
            "remaining",
            "message",
        ]
        read_only_fields = fields


class SwipeInput(serializers.Serializer):
    card_uid = serializers.CharField(max_length=32)
    swiped_at = serializers.DateTimeField(required=False)
    logger = serializers.IntegerField(
        required=False, help_text="required when not called with a device token"
    )


class TransferSerializer(ScopedModelSerializer):
    class Meta:
        model = Transfer
        fields = [
            "id", "from_enterprise", "to_enterprise", "pollutant", "year", "from_month", "to_month", "amount", "price",
            "reason", "status", "requested_by", "reviewed_by", "reviewed_at", "review_note",
        ]  # fmt: skip
        read_only_fields = ["status", "requested_by", "reviewed_by", "reviewed_at", "review_note"]


class ValveOrderSerializer(ScopedModelSerializer):
    class Meta:
        model = ValveOrder
        fields = [
            "id", "valve", "enterprise", "action", "origin", "state", "reason", "account", "requested_by", "approved_by",
            "approved_at", "not_before", "expires_at", "command_id", "sent_at", "executed_at", "confirmed_at",
            "evidence", "failure", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ValveOrderInput(serializers.Serializer):
    valve = serializers.IntegerField()
    action = serializers.ChoiceField(choices=ValveAction.choices)
    origin = serializers.ChoiceField(
        choices=[ValveOrderOrigin.MANUAL, ValveOrderOrigin.SUSPENSION], default=ValveOrderOrigin.MANUAL
    )
    reason = serializers.CharField(max_length=255)


class SettlementSerializer(ScopedModelSerializer):
    class Meta:
        model = Settlement
        fields = [
            "id",
            "account",
            "enterprise",
            "year",
            "month",
            "allowance",
            "used",
            "remaining",
            "overrun",
            "carried",
            "penalty",
            "permitted",
            "settled_at",
        ]
        read_only_fields = fields
