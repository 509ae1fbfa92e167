"""``totalcap tokens``: issue, list and revoke API tokens (the key is printed once)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from totalcap.accounts import services
from totalcap.accounts.models import ApiToken, User
from totalcap.base.exceptions import ServiceError


class Command(BaseCommand):
    help = "Manage API tokens for devices and third-party systems."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue", help="issue a token for a user")
        issue.add_argument("--user", required=True)
        issue.add_argument("--name", required=True)
        issue.add_argument("--write", action="store_true", help="allow writes (default: read-only)")
        issue.add_argument("--expires-days", type=int)
        issue.add_argument("--network", action="append", default=[], help="allowed CIDR (repeatable)")
        device = sub.add_parser("issue-device", help="issue a read-write token for a data logger")
        device.add_argument("--mn", required=True)
        device.add_argument("--expires-days", type=int)
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")
        sub.add_parser("list", help="list tokens")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "issue":
                self._issue(options)
            elif action == "issue-device":
                self._issue_device(options)
            elif action == "revoke":
                token = ApiToken.objects.filter(prefix=options["prefix"]).first()
                if token is None:
                    raise CommandError(f"no token with prefix {options['prefix']}")
                services.revoke_token("cli", token)
                self.stdout.write(f"revoked tc_{token.prefix}_…")
            else:
                for token in ApiToken.objects.select_related("user").order_by("-created_at"):
                    state = "active" if token.is_active else "inactive"
                    self.stdout.write(
                        f"tc_{token.prefix}_…  {state:<8} {'ro' if token.read_only else 'rw'}  "
                        f"{token.user.username:<24} {token.name}"
                    )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    def _expiry(self, days: int | None) -> Any:
        if days is None:
            return None
        if days <= 0:
            raise CommandError("--expires-days must be positive")
        return timezone.now() + timedelta(days=days)

    def _issue(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user named {options['user']}")
        _token, key = services.issue_token(
            "cli",
            user,
            options["name"],
            read_only=not options["write"],
            expires_at=self._expiry(options["expires_days"]),
            allowed_networks=options["network"],
        )
        self.stdout.write(key)

    def _issue_device(self, options: dict[str, Any]) -> None:
        from totalcap.registry.models import DataLogger

        logger = DataLogger.objects.filter(mn__iexact=options["mn"]).first()
        if logger is None:
            raise CommandError(f"no data logger with MN {options['mn']}")
        _token, key = services.issue_device_token(
            "cli", logger, expires_at=self._expiry(options["expires_days"])
        )
        self.stdout.write(key)
