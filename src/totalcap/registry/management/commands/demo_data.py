"""``totalcap demo-data``: load the Taizhou demo (idempotent) and print the logins."""

from typing import Any

from django.core.management.base import BaseCommand

from totalcap.registry.demo import load_demo


class Command(BaseCommand):
    help = "Load the Taizhou (泰州市) demo data and print the logins it creates. Running it twice changes nothing."

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_demo(quiet=True)
        created = ", ".join(f"{k} {v}" for k, v in result.created.items())
        self.stdout.write(f"Demo data loaded (created: {created}).")
        self.stdout.write("Logins (user / password / role):")
        for username, password, role in result.logins:
            self.stdout.write(f"  {username:<12} {password:<16} {role}")
