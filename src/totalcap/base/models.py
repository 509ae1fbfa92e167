"""Base models: time stamps, scope declarations, and the append-only domain event log."""

from __future__ import annotations

import pgtrigger
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from totalcap.base.scope import ScopedModelMixin, ScopedQuerySet

ScopedManager = models.Manager.from_queryset(ScopedQuerySet)


class TimeStampedModel(models.Model):
    """Creation and last-change times (UTC in the database, Beijing time in the UI)."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, editable=False)

    class Meta:
        abstract = True


class ScopedModel(ScopedModelMixin, TimeStampedModel):
    """A model whose rows belong to a jurisdiction, an enterprise or a logger.

    Subclasses set ``scope_jurisdiction`` / ``scope_enterprise`` / ``scope_logger`` (see
    :mod:`totalcap.base.scope`) and get ``objects.restrict(user, action)``.
    """

    objects = ScopedManager()

    class Meta:
        abstract = True

    def get_absolute_url(self) -> str:
        opts = self._meta
        return reverse(f"{opts.app_label}:{opts.model_name}-detail", args=[self.pk])


class DomainEvent(ScopedModelMixin, models.Model):
    """One entry of the append-only, hash-chained domain event log.

    ``hash`` is SHA-256 over the canonical JSON of the event's content and ``prev_hash``, so
    changing or deleting any row breaks the chain at that row (``totalcap audit verify``).
    A trigger refuses UPDATE, DELETE and TRUNCATE on the table.
    """

    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    object_type = models.CharField(_("对象类型"), max_length=100, db_index=True)
    object_id = models.CharField(_("对象ID"), max_length=64, db_index=True)
    object_repr = models.CharField(_("对象"), max_length=255, blank=True)
    action = models.CharField(_("动作"), max_length=64)
    payload = models.JSONField(_("内容"), default=dict, blank=True)
    jurisdiction_path = models.CharField(_("行政区划路径"), max_length=128, blank=True, db_index=True)
    enterprise_ref = models.BigIntegerField(_("企业ID"), null=True, blank=True, db_index=True)
    prev_hash = models.CharField(_("前一事件哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = ScopedManager()

    scope_jurisdiction = "jurisdiction_path"
    scope_enterprise = "enterprise_ref"

    class Meta:
        verbose_name = _("领域事件")
        verbose_name_plural = _("领域事件")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "id"], name="domainevent_object_idx")]
        triggers = [
            pgtrigger.Protect(name="domainevent_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            pgtrigger.Trigger(
                name="domainevent_no_truncate",
                operation=pgtrigger.Truncate,
                level=pgtrigger.Statement,
                when=pgtrigger.Before,
                # Only a test database has totalcap.allow_truncate on (set by the test suite so that
                # transactional tests can be flushed); production databases never do.
                func=(
                    "IF current_setting('totalcap.allow_truncate', true) = 'on' THEN RETURN NULL; END IF; "
                    "RAISE EXCEPTION 'domain events are append-only: TRUNCATE refused';"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"
