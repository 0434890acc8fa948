"""Worker processes (``--jobs``) that stop the moment the run is interrupted.

``concurrent.futures`` waits for every queued task before an interrupted ``with`` block
ends, and a Ctrl-C at the terminal reaches every worker, each printing its own
traceback. Here the workers ignore SIGINT (the parent alone decides), and any exception
in the parent, KeyboardInterrupt included, terminates them at once.
"""

from __future__ import annotations

import multiprocessing
import signal
from typing import Callable, Iterable, Iterator


def _ignore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def parallel_map(fn: Callable, items: Iterable, jobs: int, chunksize: int = 1) -> Iterator:
    """``fn`` over ``items`` in ``jobs`` processes, results in order (like ``map``).

    Closing the iterator early, an exception from a worker, or a KeyboardInterrupt in
    the parent ends every worker before the exception goes on.
    """
    pool = multiprocessing.Pool(jobs, initializer=_ignore_interrupt)
    finished = False
    try:
        yield from pool.imap(fn, items, chunksize)
        finished = True
    finally:
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()
