"""The services' row locks are ``FOR NO KEY UPDATE`` (docs/events.md, "Row locks next to the chain
lock"): a plain ``FOR UPDATE`` blocks the deferred foreign-key checks of a transaction that holds the
event chain's lock, and the two deadlock. A plain one (before a delete) is spelled ``no_key=False``."""

from __future__ import annotations

import ast
from pathlib import Path

import totalcap

SOURCE = Path(totalcap.__file__).parent


def _plain_row_locks(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        # no_key=True, or no_key=False spelled out (a row about to be deleted)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "select_for_update"
            and not any(k.arg == "no_key" for k in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_every_select_for_update_in_the_services_says_which_lock() -> None:
    found = {
        f"{path.relative_to(SOURCE)}:{line}"
        for path in SOURCE.rglob("*.py")
        if "migrations" not in path.parts
        for line in _plain_row_locks(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert not found, (
        f"select_for_update without no_key= (FOR UPDATE deadlocks with the event chain): {sorted(found)}"
    )


def test_the_check_sees_a_plain_lock() -> None:
    plain = ast.parse(
        "Valve.objects.select_for_update().get(pk=1)\nX.objects.select_for_update(of=('self',))"
    )
    keyed = ast.parse(
        "Valve.objects.select_for_update(no_key=True, of=('self',)).get(pk=1)\n"
        "Valve.objects.select_for_update(no_key=False).get(pk=1)"
    )
    assert sorted(_plain_row_locks(plain)) == [1, 2] and _plain_row_locks(keyed) == []
