"""Progress display for long calls: a tqdm bar when tqdm is installed (notebook-aware), a plain line otherwise,
or the caller's own callable."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[str, int, int], object]

_STAGES = {
    "finding": "finding people",
    "submitting": "submitting jobs",
    "waiting": "waiting for jobs",
    "collecting": "collecting results",
    "queued": "queued",
    "processing": "processing",
}


def reporter(progress: Any, what: str) -> ProgressCallback:
    """A function taking ``(stage, done, total)`` that shows or forwards progress."""
    if callable(progress):
        return progress  # type: ignore[no-any-return]
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _LineReporter(what)
    return _TqdmReporter(tqdm, what)


class _LineReporter:
    def __init__(self, what: str) -> None:
        self.what = what
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        line = f"{self.what}: {_STAGES.get(stage, stage)} {done}/{total}"
        if line == self.last:
            return
        self.last = line
        end = "\n" if (done >= total or not self.tty) else ""
        print(("\r" if self.tty else "") + line, end=end, file=sys.stderr, flush=True)


class _TqdmReporter:
    def __init__(self, tqdm: Any, what: str) -> None:
        self.tqdm = tqdm
        self.what = what
        self.bar: Any = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            if self.bar is not None:
                self.bar.close()
            self.stage = stage
            self.bar = self.tqdm(total=total, desc=f"{self.what}: {_STAGES.get(stage, stage)}", leave=True)
        self.bar.n = done
        self.bar.refresh()
        if done >= total:
            self.bar.close()
            self.bar = None
            self.stage = ""
