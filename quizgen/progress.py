"""A progress line on stderr for long runs, with a time estimate that means something.

The estimate is the work left at the rate measured since the first item finished (so
starting worker processes and importing sympy do not count), and it is shown only once
``MIN_SECONDS`` and ``MIN_ITEMS`` of such work have been seen; before that the line
says "estimating". On a terminal the line is redrawn in place (at most 10 times a
second); in a log file a line is written at every tenth of the work.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Callable, TextIO

MIN_SECONDS = 2.0
MIN_ITEMS = 5
REDRAW_SECONDS = 0.1


def clock_text(seconds: float) -> str:
    """``75.2`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    s = int(round(seconds))
    h, m = divmod(s, 3600)
    m, s = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """``label [#####.....] done/total  0:42 left``; ``eta=False`` for steps of unequal
    length (the write phase), which show the current step and the time so far instead."""

    def __init__(self, label: str, total: int = 0, file: TextIO | None = None, eta: bool = True,
                 clock: Callable[[], float] = time.monotonic, tty: bool | None = None):
        self.label, self.total, self.eta_wanted = label, total, eta
        self.file = file or sys.stderr
        self.clock = clock
        self.tty = self.file.isatty() if tty is None else tty
        self.done, self.note = 0, ""
        self.started = clock()
        self._first: tuple[float, int] | None = None      # (time, count) at the first finished item
        self._drawn_at = -1.0
        self._tenths = -1
        self._width = 0

    def __enter__(self) -> "Progress":
        self.draw(force=True)
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.finish(ok=kind is None)

    def set_total(self, total: int) -> None:
        self.total = total
        self.draw(force=True)

    def update(self, n: int = 1) -> None:
        """``n`` more items done."""
        self.done += n
        if self._first is None:             # the rate counts from here: start-up is behind us
            self._first = (self.clock(), self.done)
        self.draw()

    def step(self, name: str, total: int | None = None) -> None:
        """Start the step ``name``; the step before it (if any) is done."""
        if total is not None:
            self.total = total
        if self.note:
            self.done += 1
        self.note = name
        self.draw(force=True)

    def eta(self) -> float | None:
        """Seconds left at the measured rate, or None while the rate is not yet known."""
        if self._first is None or not self.total:
            return None
        t0, n0 = self._first
        seconds, items = self.clock() - t0, self.done - n0
        if seconds < MIN_SECONDS or items < MIN_ITEMS:
            return None
        return max(0, self.total - self.done) * seconds / items

    def text(self, width: int = 80) -> str:
        """The progress line, at most ``width`` characters."""
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        if self.total and self.done >= self.total and not self.note:
            tail = f"done in {clock_text(self.clock() - self.started)}"
        elif self.eta_wanted:
            left = self.eta()
            tail = "estimating" if left is None else f"{clock_text(left)} left"
        else:
            tail = " ".join(v for v in (self.note, clock_text(self.clock() - self.started)) if v)
        fixed = f"{self.label}  []  {count}  {tail}"
        room = max(0, min(30, width - 1 - len(fixed)))
        filled = round(room * self.done / self.total) if self.total else 0
        return f"{self.label}  [{'#' * filled}{'.' * (room - filled)}]  {count}  {tail}"[:max(0, width - 1)]

    def draw(self, force: bool = False) -> None:
        now = self.clock()
        if self.tty:
            if not force and now - self._drawn_at < REDRAW_SECONDS:
                return
            line = self.text(shutil.get_terminal_size((80, 24)).columns)
            self.file.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            if not self.total:
                return                    # a log gets lines once there is a count to give
            tenths = int(10 * self.done / self.total)
            if not force and tenths == self._tenths:
                return
            self._tenths = tenths
            self.file.write(self.text(100) + "\n")
        self._drawn_at = now
        self.file.flush()

    def finish(self, ok: bool = True) -> None:
        """The last line: complete, or left where the run stopped."""
        if ok and self.note:
            self.done, self.note = self.total, ""
        if self.tty:
            self.draw(force=True)
            self.file.write("\n")
            self.file.flush()
        elif ok and self._tenths < 10:
            self.draw(force=True)
