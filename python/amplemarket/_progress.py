"""Progress display for long calls: one bar per call (tqdm when installed, notebook-aware), a plain line otherwise,
or the caller's own callable.

The Rust core reports ``(phase, done, total)``: ``done`` and ``total`` count leads (or queries for ``find_many``),
the phase says what is happening (``submitting``, ``waiting: processing``, ``retrying after 429 for 3 s``,
``reading results``), and the last report's phase is ``done``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[str, int, int], object]


def reporter(progress: Any, what: str, unit: str = "lead") -> ProgressCallback:
    """A function taking ``(phase, done, total)`` that shows or forwards progress."""
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    tqdm = _tqdm()
    if tqdm is None:
        return _LineReporter(what, unit)
    return _TqdmReporter(tqdm, what, unit)


def _tqdm() -> Any:
    """tqdm's notebook-aware bar, or ``None`` without tqdm. In a notebook without ipywidgets, ``tqdm.auto`` warns
    (``TqdmWarning: IProgress not found``) and falls back to the text bar: the fallback is what we want, the warning
    is noise."""
    try:
        from tqdm.std import TqdmWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TqdmWarning)
            from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def _label(what: str, phase: str) -> str:
    return f"{what}: {phase}"


class _LineReporter:
    """One line rewritten in place on a terminal; elsewhere a line for each change of phase and the end."""

    def __init__(self, what: str, unit: str) -> None:
        self.what = what
        self.unit = unit
        self.tty = sys.stderr.isatty()
        self.phase = ""
        self.open = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        count = f"{done}/{total}" if total else f"{done}"
        line = f"{_label(self.what, phase)} {count} {self.unit}s"
        if self.tty:
            print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)
            self.open = True
        elif phase != self.phase:
            print(line, file=sys.stderr, flush=True)
        self.phase = phase
        if phase == "done":
            self.close()

    def close(self) -> None:
        if self.open:
            print(file=sys.stderr, flush=True)
            self.open = False


class _TqdmReporter:
    """One tqdm bar for the whole call: its description follows the phase, its count the leads."""

    def __init__(self, tqdm: Any, what: str, unit: str) -> None:
        self.tqdm = tqdm
        self.what = what
        self.unit = unit
        self.bar: Any = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.tqdm(total=total or None, desc=_label(self.what, phase), unit=self.unit, leave=True)
        elif total and self.bar.total != total:
            self.bar.total = total
        self.bar.set_description_str(_label(self.what, phase), refresh=False)
        self.bar.n = done
        self.bar.refresh()
        if phase == "done":
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
