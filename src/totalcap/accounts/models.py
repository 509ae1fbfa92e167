"""Users bound to a jurisdiction, an enterprise or a logger; API tokens for devices and systems."""

from __future__ import annotations

import ipaddress
from typing import Any

import pghistory
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from totalcap.accounts.choices import JURISDICTION_ROLES, REGULATOR_LEVELS, Role
from totalcap.base.models import TimeStampedModel
from totalcap.base.scope import NOTHING, Scope, ScopedModelMixin, ScopedQuerySet


class ScopedUserManager(UserManager.from_queryset(ScopedQuerySet)):
    pass


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["password", "last_login"],
)
class User(ScopedModelMixin, AbstractUser):
    """A person (or a device principal) using TotalCap.

    Groups and permissions say *what* the user may do (one group per role); the jurisdiction,
    the enterprise, the served enterprises or the logger say *where*.
    """

    full_name = models.CharField(_("姓名"), max_length=64, blank=True)
    phone = models.CharField(_("手机号"), max_length=32, blank=True)
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices, default=Role.COUNTY_REGULATOR)
    jurisdiction = models.ForeignKey(
        "registry.Jurisdiction",
        verbose_name=_("所属行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("所属排污单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    served_enterprises = models.ManyToManyField(
        "registry.Enterprise", verbose_name=_("运维的排污单位"), blank=True, related_name="om_users"
    )
    logger = models.ForeignKey(
        "registry.DataLogger",
        verbose_name=_("数采仪"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="device_users",
    )

    objects = ScopedUserManager()
    _loaded_role: str | None = None

    scope_jurisdiction = "jurisdiction__path"
    scope_enterprise = "enterprise"

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.role in JURISDICTION_ROLES:
            if self.jurisdiction is None:
                errors["jurisdiction"] = _("监管部门和审计用户必须绑定行政区划。")
            elif (
                self.role in REGULATOR_LEVELS and self.jurisdiction.level != REGULATOR_LEVELS[Role(self.role)]
            ):
                from totalcap.registry.choices import JurisdictionLevel

                wanted = JurisdictionLevel(REGULATOR_LEVELS[Role(self.role)]).label
                errors["jurisdiction"] = _("角色「%(role)s」应绑定%(level)s行政区划。") % {
                    "role": self.get_role_display(),
                    "level": wanted,
                }
        if self.role == Role.ENTERPRISE and not self.enterprise_id:
            errors["enterprise"] = _("企业用户必须绑定排污单位。")
        if self.role == Role.DEVICE and not self.logger_id:
            errors["logger"] = _("设备用户必须绑定数采仪。")
        if errors:
            raise ValidationError(errors)

    def get_scope(self) -> Scope:
        """Where this user may act (see :mod:`totalcap.base.scope`)."""
        if not self.is_active:
            return NOTHING
        if self.is_superuser or self.role == Role.SYSADMIN:
            return Scope(everything=True)
        if self.role in JURISDICTION_ROLES:
            return (
                Scope(jurisdiction_path=self.jurisdiction.path) if self.jurisdiction is not None else NOTHING
            )
        if self.role == Role.ENTERPRISE:
            return Scope(enterprise_ids=frozenset({self.enterprise_id})) if self.enterprise_id else NOTHING
        if self.role == Role.OM_CONTRACTOR:
            ids = frozenset(self.served_enterprises.values_list("pk", flat=True)) if self.pk else frozenset()
            return Scope(enterprise_ids=ids) if ids else NOTHING
        if self.role == Role.DEVICE:
            return Scope(logger_ids=frozenset({self.logger_id})) if self.logger_id else NOTHING
        return NOTHING

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> User:
        instance: User = super().from_db(*args, **kwargs)
        instance._loaded_role = instance.__dict__.get("role")
        return instance

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        role_touched = update_fields is None or "role" in update_fields
        creating = self._state.adding
        super().save(*args, **kwargs)
        if role_touched and (creating or getattr(self, "_loaded_role", None) != self.role):
            self._sync_role_group()
            self._loaded_role = self.role

    def _sync_role_group(self) -> None:
        """Membership of exactly the group of the user's role (other groups are kept)."""
        from django.contrib.auth.models import Group

        from totalcap.accounts.roles import group_name

        wanted = group_name(self.role)
        current = set(self.groups.filter(name__startswith="role:").values_list("name", flat=True))
        if current == {wanted}:
            return
        stale = current - {wanted}
        if stale:
            self.groups.remove(*Group.objects.filter(name__in=stale))
        group, _ = Group.objects.get_or_create(name=wanted)
        self.groups.add(group)
        for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_totalcap_scope"):
            self.__dict__.pop(attr, None)

    def event_scope(self) -> tuple[str, int | None]:
        path = self.jurisdiction.path if self.jurisdiction is not None else ""
        return path, self.enterprise_id


class ApiTokenQuerySet(ScopedQuerySet):
    def active(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


@pghistory.track(
    pghistory.InsertEvent(), pghistory.UpdateEvent(), exclude=["key_hash", "last_used_at", "last_used_ip"]
)
class ApiToken(ScopedModelMixin, TimeStampedModel):
    """A bearer token for a device (logger) or a third-party system.

    Only a SHA-256 hash of the key is stored; the key itself is shown once when issued. The
    prefix (the first characters after ``tc_``) finds the row; the hash proves the key.
    """

    name = models.CharField(_("名称"), max_length=64)
    user = models.ForeignKey(
        User, verbose_name=_("所属用户"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    prefix = models.CharField(_("前缀"), max_length=12, unique=True)
    key_hash = models.CharField(_("密钥哈希"), max_length=64)
    read_only = models.BooleanField(_("只读"), default=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    allowed_networks = models.JSONField(
        _("允许的网络"), default=list, blank=True, help_text=_("CIDR列表，如 10.0.0.0/8；为空表示不限制。")
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("最近使用地址"), null=True, blank=True)

    objects = models.Manager.from_queryset(ApiTokenQuerySet)()

    scope_jurisdiction = "user__jurisdiction__path"
    scope_enterprise = "user__enterprise"
    scope_logger = "user__logger"

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (tc_{self.prefix}…)"

    def clean(self) -> None:
        for net in self.allowed_networks or []:
            try:
                ipaddress.ip_network(str(net), strict=False)
            except ValueError as exc:
                raise ValidationError(
                    {"allowed_networks": _("「%(v)s」不是有效的网段。") % {"v": net}}
                ) from exc

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    def allows_address(self, address: str | None) -> bool:
        if not self.allowed_networks:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(str(n), strict=False) for n in self.allowed_networks)

    def event_scope(self) -> tuple[str, int | None]:
        return self.user.event_scope()
