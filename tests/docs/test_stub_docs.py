"""Docstrings are written once, in Rust: the stub (python/amplemarket/_core.pyi) carries copies that
`python scripts/sync_stub_docs.py` makes, and this test fails when they drift apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_stub_carries_the_extension_docstrings() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_stub_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, "run `python scripts/sync_stub_docs.py`; these differ:\n" + done.stdout + done.stderr


def test_every_twin_has_one_docstring_and_a_derived_one() -> None:
    import amplemarket

    for cls in (amplemarket.Person, amplemarket.Company, amplemarket.EnrichmentJob):
        for name in dir(cls):
            if name.endswith("_async") and not name.startswith("_"):
                blocking = name.removesuffix("_async")
                assert getattr(cls, blocking).__doc__, f"{cls.__name__}.{blocking} has no docstring"
                assert f"``{blocking}``" in (getattr(cls, name).__doc__ or ""), f"{cls.__name__}.{name}"


def stub_filters(name: str) -> set[str]:
    """The keys of a filter TypedDict of the stub, its bases' included (stubtest does not look inside
    ``**filters: Unpack[...]``)."""
    import ast

    tree = ast.parse((ROOT / "python" / "amplemarket" / "_core.pyi").read_text())
    (cls,) = (node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)
    own = {node.target.id for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    bases = {base.id for base in cls.bases if isinstance(base, ast.Name) and base.id != "TypedDict"}
    return own.union(*(stub_filters(base) for base in bases))


def test_the_stub_filters_are_the_search_filters() -> None:
    import amplemarket

    for cls, typed in ((amplemarket.Person, "_PersonFilters"), (amplemarket.Company, "_CompanyFilters")):
        assert set(cls.SEARCH_FILTERS) == stub_filters(typed), f"{cls.__name__}.SEARCH_FILTERS and {typed} differ"
