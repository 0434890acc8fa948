"""Questions kept on disk, not in memory, between generation and export.

A large set (a roster of 1,000 students x 20 questions, ``--count 5000``) would otherwise
hold every question object in memory until the last exporter is done. A :class:`Spill`
pickles each object into an unlinked temporary file as it arrives; a :class:`SpilledList`
is a read-only sequence over a range of it that unpickles an item when it is asked for.
Memory then stays flat in the number of questions, and the objects come back equal,
key order included, so the files written are the same bytes.

Reads use ``os.pread`` (no shared file position), so exporters forked after the spill
was written read it side by side. Each read returns a new object: changing it does
not change the spill. A :class:`DiskStore` is the same idea as a dict (figures drawn
ahead, formulas converted ahead): values on disk, the index in memory.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Sequence

_READ_AHEAD = 1 << 20        # bytes read at once when iterating


class Spill:
    """An append-only store of picklable objects in a temporary file (gone when closed)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="quizgen-spill-")
        self._ends: list[int] = []          # end offset of each item

    def append(self, obj) -> int:
        """Store ``obj``; returns its index."""
        self._file.write(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
        self._ends.append(self._file.tell())
        return len(self._ends) - 1

    def extend(self, objs: Iterable) -> None:
        for obj in objs:
            self.append(obj)

    def __len__(self) -> int:
        return len(self._ends)

    def _span(self, i: int) -> tuple[int, int]:
        return (self._ends[i - 1] if i else 0), self._ends[i]

    def read(self, i: int):
        """The object stored at index ``i`` (a fresh copy)."""
        self._file.flush()
        start, end = self._span(i)
        return pickle.loads(os.pread(self._file.fileno(), end - start, start))

    def read_range(self, start: int, stop: int) -> Iterator:
        """The objects ``start`` .. ``stop - 1``, reading about a megabyte at a time."""
        self._file.flush()
        i = start
        while i < stop:
            first = self._span(i)[0]
            j = i + 1
            while j < stop and self._ends[j] - first <= _READ_AHEAD:
                j += 1
            block = memoryview(os.pread(self._file.fileno(), self._ends[j - 1] - first, first))
            for k in range(i, j):
                a, b = self._span(k)
                yield pickle.loads(block[a - first:b - first])
            i = j

    def view(self, start: int = 0, stop: int | None = None) -> "SpilledList":
        return SpilledList(self, start, len(self) if stop is None else stop)

    def close(self) -> None:
        self._file.close()


class SpilledList(Sequence):
    """A read-only list of the items ``start`` .. ``stop - 1`` of a :class:`Spill`."""

    def __init__(self, spill: Spill, start: int, stop: int) -> None:
        self._spill, self._start, self._stop = spill, start, stop

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, index):
        if isinstance(index, slice):
            lo, hi, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(lo, hi, step)]
            return SpilledList(self._spill, self._start + lo, self._start + max(lo, hi))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("spilled list index out of range")
        return self._spill.read(self._start + index)

    def __iter__(self) -> Iterator:
        return self._spill.read_range(self._start, self._stop)

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self) -> str:
        return f"<SpilledList of {len(self)} items>"


class DiskStore:
    """A dict whose values (picklable) wait in unlinked temporary files and whose index
    (key -> where) stays in memory: figures drawn ahead and formulas converted ahead for a
    build of any size. Values written before a fork are readable in the forked process
    (``os.pread``); a process writes only to a file of its own, so forked exporters never
    write over each other."""

    def __init__(self) -> None:
        self._index: dict = {}                  # key -> (pid of the file, offset, length)
        self._files: dict[int, object] = {}     # pid -> its temporary file

    def __setitem__(self, key, value) -> None:
        pid = os.getpid()
        fh = self._files.get(pid)
        if fh is None:
            fh = self._files[pid] = tempfile.TemporaryFile(prefix="quizgen-store-")
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        fh.seek(0, os.SEEK_END)
        at = fh.tell()
        fh.write(data)
        fh.flush()
        self._index[key] = (pid, at, len(data))

    def get(self, key, default=None):
        where = self._index.get(key)
        if where is None:
            return default
        pid, at, length = where
        return pickle.loads(os.pread(self._files[pid].fileno(), length, at))

    def __getitem__(self, key):
        if key not in self._index:
            raise KeyError(key)
        return self.get(key)

    def pop(self, key, default=None):
        value = self.get(key, default)
        self._index.pop(key, None)
        return value

    def __contains__(self, key) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self):
        return iter(self._index)

    def keys(self):
        return self._index.keys()

    def clear(self) -> None:
        """Forget every value; this process's file goes (a forked copy keeps its parent's)."""
        self._index.clear()
        mine = self._files.pop(os.getpid(), None)
        if mine is not None:
            mine.close()
        self._files.clear()
