"""The services' row locks are ``FOR NO KEY UPDATE`` (docs/events.md, "Row locks next to the chain
lock"): a plain ``FOR UPDATE`` blocks the deferred foreign-key checks of a transaction that holds the
event chain's lock, and the two deadlock."""

from __future__ import annotations

import ast
from pathlib import Path

import totalcap

SOURCE = Path(totalcap.__file__).parent


def _plain_row_locks(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "select_for_update"
        ):
            no_key = next((k.value for k in node.keywords if k.arg == "no_key"), None)
            if not (isinstance(no_key, ast.Constant) and no_key.value is True):
                lines.append(node.lineno)
    return lines


def test_every_select_for_update_in_the_services_is_no_key() -> None:
    found = {
        f"{path.relative_to(SOURCE)}:{line}"
        for path in SOURCE.rglob("*.py")
        if "migrations" not in path.parts
        for line in _plain_row_locks(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert not found, f"FOR UPDATE without no_key=True (deadlocks with the event chain): {sorted(found)}"


def test_the_check_sees_a_plain_lock() -> None:
    plain = ast.parse(
        "Valve.objects.select_for_update().get(pk=1)\nX.objects.select_for_update(of=('self',))"
    )
    keyed = ast.parse("Valve.objects.select_for_update(no_key=True, of=('self',)).get(pk=1)")
    assert sorted(_plain_row_locks(plain)) == [1, 2] and _plain_row_locks(keyed) == []
