"""Everything a user can read works verbatim against the sandbox: every fenced Python block and every
`amplemarket ...` command line of the README, the code in the package's docstrings, and the scripts in examples/.

A documented lookup that comes back empty fails too: every call to ``find``, ``search``, ``enrich``,
``find_many`` (and their async and iterator twins) in a Python block is checked to produce a result, and every
command line to exit 0 with something found.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import ENV, free_port, read_rows

import amplemarket
from amplemarket.testing import Sandbox

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LOOKUPS = {
    "find",
    "find_async",
    "find_many",
    "find_many_async",
    "search",
    "search_async",
    "search_iter",
    "search_iter_async",
    "enrich",
    "enrich_async",
}


def fenced(lang: str) -> list[str]:
    return [body for tag, body in FENCE.findall(README.read_text(encoding="utf-8")) if tag == lang]


def command_lines() -> list[str]:
    """Each `amplemarket ...` command of the README's bash blocks (also inside `a && b` chains), comments dropped."""
    found = []
    for block in fenced("bash"):
        for line in block.splitlines():
            for part in line.split("&&"):
                words = shlex.split(part, comments=True)
                if words and words[0] == "amplemarket":
                    found.append(shlex.join(words))
    return found


def docstring_blocks(module: Any) -> list[str]:
    """The literal blocks (after ``::``) of a module's docstring."""
    doc = inspect.getdoc(module) or ""
    return [textwrap.dedent(m) for m in re.findall(r"::\n\n((?:    .*\n|\n)+)", doc + "\n")]


# -- checking that documented lookups find something --------------------------------------------------------------


class FoundNothing(AssertionError):
    pass


def _nonempty(value: Any, where: str) -> Any:
    if value is None:
        raise FoundNothing(f"{where} found nothing")
    if isinstance(value, amplemarket.SearchPage) and not value.results:
        raise FoundNothing(f"{where} returned an empty page")
    if isinstance(value, (list, amplemarket.Results)) and value:
        if isinstance(value[0], amplemarket.EnrichmentResult) and not any(r.status == "enriched" for r in value):
            raise FoundNothing(f"{where} enriched nobody: {[r.status for r in value]}")
        if isinstance(value[0], amplemarket.FindResult) and not any(f.person for f in value):
            raise FoundNothing(f"{where} found nobody: {value}")
    return value


def _sync_items(it: Iterator[Any], where: str) -> Iterator[Any]:
    n = 0
    for n, item in enumerate(it, 1):  # noqa: B007
        yield item
    if n == 0:
        raise FoundNothing(f"{where} yielded nothing")


async def _async_items(it: AsyncIterator[Any], where: str) -> AsyncIterator[Any]:
    n = 0
    async for item in it:
        n += 1
        yield item
    if n == 0:
        raise FoundNothing(f"{where} yielded nothing")


async def _awaited(coro: Any, where: str) -> Any:
    return _nonempty(await coro, where)


def expect(value: Any, where: str) -> Any:
    """What a documented lookup returned, checked to hold a result (iterators and coroutines when consumed)."""
    if inspect.isawaitable(value):
        return _awaited(value, where)
    if hasattr(value, "__anext__"):
        return _async_items(value, where)
    if hasattr(value, "__next__"):
        return _sync_items(value, where)
    return _nonempty(value, where)


class WrapLookups(ast.NodeTransformer):
    """Wraps each call of a lookup method in ``__expect__(call, "line N: source")``."""

    def __init__(self, source: str, origin: str) -> None:
        self.source = source
        self.origin = origin
        self.wrapped = 0

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in LOOKUPS:
            self.wrapped += 1
            where = f"{self.origin}: {ast.get_source_segment(self.source, node)}"
            return ast.Call(ast.Name("__expect__", ast.Load()), [node, ast.Constant(where)], [])
        return node


def run_python(source: str, origin: str, namespace: dict[str, Any]) -> int:
    tree = WrapLookups(source, origin)
    module = ast.fix_missing_locations(tree.visit(ast.parse(source)))
    exec(compile(module, origin, "exec"), namespace)
    return tree.wrapped


@pytest.fixture
def docs_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """The default data set, reached through the environment as a user's `amplemarket.Client()` would."""
    with Sandbox(rate_limit=None, search_rate_limit=None, job_progression="polls:2", poll_retry_after=0) as sb:
        monkeypatch.setenv("AMPLEMARKET_API_KEY", sb.api_key)
        monkeypatch.setenv("AMPLEMARKET_BASE_URL", sb.url)
        monkeypatch.chdir(tmp_path)
        amplemarket.set_default_client(None)
        try:
            yield sb
        finally:
            amplemarket.set_default_client(None)


# -- the README's Python -------------------------------------------------------------------------------------------


def test_the_readme_has_code_to_run() -> None:
    assert len(fenced("python")) >= 5
    assert any(c.startswith("amplemarket enrich") for c in command_lines())


def test_every_python_block_of_the_readme_runs_and_finds_what_it_shows(docs_sandbox: Sandbox) -> None:
    namespace: dict[str, Any] = {"__expect__": expect, "__name__": "__readme__"}
    checked = 0
    for n, block in enumerate(fenced("python"), 1):
        checked += run_python(block, f"README python block {n}", namespace)
    assert checked >= 10, f"only {checked} lookups were checked: did the wrapping stop matching?"
    # The blocks really ran against the sandbox: Jane was found and charged for her email.
    assert namespace["person"].email == "jane@techco.com"
    assert docs_sandbox.credits["charges"], "the README's reveals charged nothing: did they reach the sandbox?"


def test_a_lookup_that_finds_nothing_fails_the_runner(docs_sandbox: Sandbox) -> None:
    namespace: dict[str, Any] = {"__expect__": expect}
    for source in (
        'import amplemarket\namplemarket.Person.find(email="nobody@nowhere.example")',
        "import amplemarket\nfor p in amplemarket.Person.search_iter(person_titles=['No Such Title']): ...",
        'import amplemarket\namplemarket.Person.enrich([{"email": "nobody@nowhere.example"}])',
        "import asyncio, amplemarket\n"
        "async def main():\n"
        "    await amplemarket.Person.find_async(linkedin_url='https://www.linkedin.com/in/nobody-x')\n"
        "asyncio.run(main())",
    ):
        with pytest.raises(FoundNothing):
            run_python(source, "probe", dict(namespace))


@pytest.mark.parametrize("module", [amplemarket, amplemarket.testing], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: Any, docs_sandbox: Sandbox) -> None:
    blocks = docstring_blocks(module)
    assert blocks, f"{module.__name__} has no example"
    namespace: dict[str, Any] = {"__expect__": expect}
    for n, block in enumerate(blocks, 1):
        run_python(block, f"{module.__name__} docstring block {n}", namespace)


# -- the README's command lines ------------------------------------------------------------------------------------


def _amplemarket() -> str:
    exe = shutil.which("amplemarket", path=str(Path(sys.executable).parent))
    assert exe, "the amplemarket console script is not installed"
    return exe


def _written(words: list[str], cwd: Path) -> Path | None:
    for flag in ("-o", "--output"):
        if flag in words:
            return cwd / words[words.index(flag) + 1]
    return None


def _clean_env() -> dict[str, str]:
    return ENV | {"PYTHONIOENCODING": "utf-8"}


@pytest.mark.parametrize("command", [c for c in command_lines() if not c.startswith("amplemarket sandbox")])
def test_every_command_line_of_the_readme_works_against_the_sandbox(command: str, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    words = shlex.split(command)
    # Every command but `cache` (which reads a local file only) talks to the API: here, to a sandbox.
    if "--sandbox" not in words and words[1] != "cache":
        words.append("--sandbox")
    done = subprocess.run(
        [_amplemarket(), *words[1:]], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=300
    )
    said = done.stdout + done.stderr
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{said}"
    assert "no match" not in said.lower(), f"{command} found nothing:\n{said}"
    out = None if "--dry-run" in words else _written(words, tmp_path)
    if out is not None:
        rows = read_rows(out)
        assert rows, f"{command} wrote no rows"
        if words[1] == "enrich":
            assert any(r.get("status") == "enriched" for r in rows), f"{command} enriched nobody"
    else:
        assert done.stdout.strip(), f"{command} printed nothing"
    if words[1] == "find":
        assert "Jane Doe" in done.stdout and "+1 415 555 0142" in done.stdout, done.stdout
    if words[1] == "company":
        assert json.loads(done.stdout)["name"] == "TechCo"


def test_the_readme_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    (command,) = [c for c in command_lines() if c.startswith("amplemarket sandbox")]
    words = shlex.split(command)
    # The README's port, unless something here holds it already: the command's meaning is the same.
    port = words[words.index("--port") + 1]
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", int(port))) == 0:
            words[words.index("--port") + 1] = port = str(free_port())
    proc = subprocess.Popen(
        [_amplemarket(), *words[1:]], cwd=tmp_path, env=_clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline().decode()
        assert f":{port}" in banner, banner
        import httpx

        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read().decode() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- examples/ -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_every_example_script_runs(script: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nobody found" not in done.stdout and "0 of" not in done.stdout, done.stdout


def test_the_async_wrapping_really_awaits() -> None:
    async def none() -> None:
        return None

    with pytest.raises(FoundNothing):
        asyncio.run(expect(none(), "probe"))
