"""Imports run one way, with no cycles; the checker itself catches a planted violation."""

from __future__ import annotations

from pathlib import Path

from tests.architecture.imports import cycles, violations

SRC = Path(__file__).resolve().parents[2] / "src"


def test_imports_run_one_way() -> None:
    assert violations(SRC) == []


def test_no_module_imports_itself_round_a_loop() -> None:
    assert cycles(SRC) == []


def _plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "relgraph" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_planted_analytics_import_of_the_store_is_caught(tmp_path: Path) -> None:
    src = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "store/__init__.py": "",
            "store/base.py": "class Store: ...\n",
            "analytics/__init__.py": "",
            # Hidden in a function and under TYPE_CHECKING: still caught.
            "analytics/networks.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from relgraph.store.base import Store\n"
                "def f():\n"
                "    from ..store import base\n"
                "    import relgraph.api.schema\n"
            ),
            "api/__init__.py": "",
            "api/schema.py": "",
        },
    )
    found = violations(src)
    assert len(found) == 3
    assert any("analytics.networks imports store.base" in v and ":3:" in v for v in found)
    assert any("analytics.networks imports store.base" in v and ":5:" in v for v in found)
    assert any("analytics.networks imports api.schema" in v for v in found)


def test_a_planted_cycle_is_caught(tmp_path: Path) -> None:
    src = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "analytics/__init__.py": "",
            "analytics/engine.py": "def g():\n    from relgraph.analytics import networks\n",
            "analytics/networks.py": "from relgraph.analytics.engine import g\n",
        },
    )
    assert violations(src) == []
    assert cycles(src) == [["analytics.engine", "analytics.networks"]]


def test_no_module_is_over_600_lines() -> None:
    # A module past 600 lines holds more than one thing a newcomer would look for by name.
    long = {
        str(path.relative_to(SRC)): n
        for path in sorted(SRC.rglob("*.py"))
        if (n := len(path.read_text("utf-8").splitlines())) > 600
    }
    assert long == {}
