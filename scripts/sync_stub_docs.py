"""Copies the extension's docstrings (written once, in Rust) into python/amplemarket/_core.pyi, so the stub never
drifts from them. ``--check`` only reports the differences (CI runs it through tests/docs/test_stub_docs.py).

    python scripts/sync_stub_docs.py          # rewrite the stub's docstrings
    python scripts/sync_stub_docs.py --check  # exit 1 and list what differs
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path
from typing import Any

import amplemarket._core as core

STUB = Path(__file__).resolve().parents[1] / "python" / "amplemarket" / "_core.pyi"
WIDTH = 120


def runtime_doc(path: list[str]) -> str | None:
    obj: Any = core
    for name in path:
        obj = inspect.getattr_static(obj, name, None)
        if obj is None:
            return None
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
    doc = getattr(obj, "__doc__", None)
    if not isinstance(obj, type) and doc == type(obj).__doc__:
        return None  # a constant (``MAX_LEADS``): the doc of its type, not its own
    if not isinstance(doc, str) or not doc.strip():
        return None
    # pyo3 puts the text signature of a class's constructor on the class's doc; the stub has the signature itself.
    return inspect.cleandoc(doc)


def documented(tree: ast.Module) -> list[tuple[list[str], ast.AST]]:
    """Every class, function and attribute (``name: Final[T]``) of the stub, with its path from the module."""
    found: list[tuple[list[str], ast.AST]] = []

    def walk(body: list[ast.stmt], path: list[str]) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                found.append(([*path, node.name], node))
                walk(node.body, [*path, node.name])
            elif isinstance(node, ast.FunctionDef) and not node.name.startswith("__"):
                found.append(([*path, node.name], node))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and path:
                found.append(([*path, node.target.id], node))

    walk(tree.body, [])
    return found


def attribute_doc(tree: ast.Module, node: ast.AnnAssign) -> ast.Expr | None:
    """The string right below an attribute: its docstring (PEP 257), which ``ast`` does not attach to it."""
    for parent in ast.walk(tree):
        body = getattr(parent, "body", None)
        if isinstance(body, list) and node in body:
            following = body[body.index(node) + 1 : body.index(node) + 2]
            if following and isinstance(following[0], ast.Expr) and isinstance(following[0].value, ast.Constant):
                return following[0] if isinstance(following[0].value.value, str) else None
    return None


def render(doc: str, indent: str) -> list[str]:
    lines = doc.splitlines()
    if len(lines) == 1 and len(indent) + len(lines[0]) + 6 <= WIDTH:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}', *[f"{indent}{line}" if line else "" for line in lines[1:]], f'{indent}"""']


Difference = tuple[list[str], ast.AST, str | None, str | None]


def heirs(tree: ast.Module) -> dict[str, list[ast.ClassDef]]:
    """The stub's own base classes (``_Page``, ``_Job``…, which the extension does not have) with the extension's
    classes that derive from them, directly or through another such base: a member documented on such a base
    carries the docstring those classes share."""
    bases: dict[str, list[str]] = {}
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in classes.values():
        for base in node.bases:
            name = base.value if isinstance(base, ast.Subscript) else base
            if isinstance(name, ast.Name) and name.id.startswith("_"):
                bases.setdefault(node.name, []).append(name.id)

    def ancestors(name: str) -> set[str]:
        return {b for parent in bases.get(name, []) for b in (parent, *ancestors(parent))}

    found: dict[str, list[ast.ClassDef]] = {}
    for cls_name, cls in classes.items():
        if not cls_name.startswith("_"):
            for base_name in ancestors(cls_name):
                found.setdefault(base_name, []).append(cls)
    return found


def shared_doc(path: list[str], derived: dict[str, list[ast.ClassDef]]) -> str | None:
    if len(path) == 1:
        return None  # the base's own docstring is the stub's to write

    def declares(cls: ast.ClassDef, name: str) -> bool:
        return any(
            name in {getattr(n, "name", None), getattr(getattr(n, "target", None), "id", None)} for n in cls.body
        )

    inheriting = [heir.name for heir in derived.get(path[0], []) if not declares(heir, path[1])]
    docs = {runtime_doc([heir, *path[1:]]) for heir in inheriting}
    if len(docs) > 1:
        # The stub can carry only one: list them all, so the check fails and says what to reconcile in Rust.
        return "DIFFERS in the extension: " + " | ".join(sorted(repr(doc) for doc in docs))
    return docs.pop() if docs else None


def differences(tree: ast.Module) -> list[Difference]:
    out: list[Difference] = []
    derived = heirs(tree)
    for path, node in documented(tree):
        want = shared_doc(path, derived) if path[0] in derived else runtime_doc(path)
        if isinstance(node, ast.AnnAssign):
            doc = attribute_doc(tree, node)
            have = inspect.cleandoc(doc.value.value) if doc else None  # type: ignore[attr-defined]
        else:
            have = ast.get_docstring(node)  # type: ignore[arg-type]
        if want is not None and have != want:
            out.append((path, node, have, want))
    return out


def sync(source: str) -> str:
    lines = source.splitlines()
    tree = ast.parse(source)
    # From the bottom up, so the line numbers of what is left to change stay valid.
    for _path, node, have, want in sorted(differences(tree), key=lambda d: -d[1].lineno):  # type: ignore[attr-defined]
        assert want is not None
        if isinstance(node, ast.AnnAssign):
            doc = attribute_doc(tree, node)
            new = render(want, " " * node.col_offset)
            at = (doc.lineno - 1, doc.end_lineno) if doc else (node.end_lineno, node.end_lineno)
            lines[at[0] : at[1]] = new
            continue
        body = node.body  # type: ignore[attr-defined]
        indent = " " * body[0].col_offset
        new = render(want, indent)
        if have is not None:
            first = body[0]
            lines[first.lineno - 1 : first.end_lineno] = new
            continue
        only_ellipsis = (
            len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        ) and body[0].lineno == node.lineno  # type: ignore[attr-defined]
        if only_ellipsis:
            # `def f(...) -> T: ...` on one line: the docstring becomes the body.
            line = lines[node.lineno - 1]  # type: ignore[attr-defined]
            lines[node.lineno - 1] = line[: line.rstrip().rfind("...")].rstrip()  # type: ignore[attr-defined]
            indent = " " * (node.col_offset + 4)  # type: ignore[attr-defined]
            lines[node.lineno : node.lineno] = render(want, indent)  # type: ignore[attr-defined]
        else:
            lines[body[0].lineno - 1 : body[0].lineno - 1] = new
    return "\n".join(lines) + "\n"


def main() -> int:
    source = STUB.read_text(encoding="utf-8")
    if "--check" in sys.argv:
        diffs = differences(ast.parse(source))
        for path, _node, have, want in diffs:
            print(f"{'.'.join(path)}:\n  stub:    {have!r}\n  runtime: {want!r}")
        return 1 if diffs else 0
    STUB.write_text(sync(source), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
