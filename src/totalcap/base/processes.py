"""Registry of extra processes that ``totalcap run`` starts (the gateway, the simulator …).

Apps register a factory at import time of their ``processes`` module; keeping this indirection
lets ``run`` stay ignorant of the apps that exist.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.apps import apps

from totalcap.base.runner import Child

Factory = Callable[[dict[str, Any]], list[Child]]
_factories: list[Factory] = []


def register(factory: Factory) -> Factory:
    _factories.append(factory)
    return factory


def registered_children(options: dict[str, Any]) -> list[Child]:
    for config in apps.get_app_configs():
        if config.name.startswith("totalcap."):
            try:
                import_module(f"{config.name}.processes")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.processes":
                    raise
    children: list[Child] = []
    for factory in _factories:
        children.extend(factory(options))
    return children
