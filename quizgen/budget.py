"""Time budgets: stop a computation that runs too long, with a clear exception.

``with time_budget(2.0, "the symbolic solve"): ...`` raises :class:`OutOfTime` inside the
block once it has used 2 s of CPU. Budgets nest (the earliest deadline fires first, and only
the budget that expired raises). The clock is the process's CPU time (``ITIMER_PROF``,
SIGPROF), not the wall clock: a busy machine (other jobs, a loaded CI runner) neither
shortens a budget nor fails good input, while a runaway computation is still stopped. It
works in the main thread of a process (the CLI, and each worker of ``--jobs``); elsewhere
the block simply runs without a limit. Python checks for the signal between bytecodes,
so a single long C call (a huge integer power) is not interrupted: the input limits in
``quizgen.limits`` keep those out. The signal can arrive while Python runs a callback whose
exceptions are only reported, never raised (a garbage-collector callback, a ``__del__``):
an expired budget therefore raises again every ``REFIRE`` seconds of CPU until its block ends.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager


class OutOfTime(BaseException):
    """A time budget ran out. A BaseException, so that library code catching
    ``Exception`` (sympy does) cannot swallow it."""

    def __init__(self, what: str, seconds: float, token: object = None):
        self.what, self.seconds, self.token = what, seconds, token
        super().__init__(f"{what} took longer than {seconds:g} s")


REFIRE = 0.05                    # s of CPU between raises of an expired budget whose exception was lost
_stack: list[list] = []          # [deadline, what, seconds, token] of the open budgets


def _usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _arm() -> None:
    if not _stack:
        signal.setitimer(signal.ITIMER_PROF, 0)
        return
    remaining = min(b[0] for b in _stack) - time.process_time()
    signal.setitimer(signal.ITIMER_PROF, max(remaining, 1e-4))


def _fire(signum, frame) -> None:
    now = time.process_time()
    expired = [b for b in _stack if b[0] <= now + 1e-4]
    if not expired:
        _arm()
        return
    first = min(expired, key=lambda b: b[0])
    signal.setitimer(signal.ITIMER_PROF, REFIRE)      # again, should this exception be swallowed
    raise OutOfTime(first[1], first[2], first[3])


@contextmanager
def time_budget(seconds: float | None, what: str = "the computation"):
    """Run the block with at most ``seconds`` of CPU time (None or <= 0: no limit).

    Yields a token; ``OutOfTime.token`` is it when this budget (not an outer one) ran out.
    """
    token = object()
    if not seconds or seconds <= 0 or not _usable():
        yield token
        return
    entry = [time.process_time() + seconds, what, seconds, token]
    previous = signal.signal(signal.SIGPROF, _fire) if not _stack else None
    _stack.append(entry)
    _arm()
    try:
        yield token
    finally:
        _stack.remove(entry)
        _arm()
        if previous is not None:
            signal.signal(signal.SIGPROF, previous)
