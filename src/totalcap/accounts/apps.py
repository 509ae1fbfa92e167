from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "totalcap.accounts"
    label = "accounts"
    verbose_name = "用户与权限"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles, dispatch_uid="totalcap.accounts.sync_roles")
        from totalcap.accounts import schema  # noqa: F401  (registers the OpenAPI extension)


def _sync_roles(sender: AppConfig, **kwargs: Any) -> None:
    """Keep one Django group per role with the role's permissions (infrastructure, not domain).

    Runs once per ``migrate``, after the last app's permissions exist.
    """
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender.label != with_models[-1].label:
        return
    from totalcap.accounts.roles import sync_role_groups

    sync_role_groups(verbosity=kwargs.get("verbosity", 1))
