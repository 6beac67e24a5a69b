"""A bounded least-recently-used map for caches filled in bulk (functools.lru_cache caches one call at a
time; cpca parses a whole list of texts in one call)."""

from __future__ import annotations

from collections import OrderedDict


class LruCache:
    """A bounded map that forgets the least recently used entry, with hit counts for the benchmark."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key, default=None, *, count: bool = True):
        try:
            value = self._data[key]
        except KeyError:
            if count:
                self.misses += 1
            return default
        self._data.move_to_end(key)
        if count:
            self.hits += 1
        return value

    def tally(self, hit: bool) -> None:
        """Count one lookup made of several `get(count=False)` calls."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1

    def put(self, key, value) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def __contains__(self, key) -> bool:
        return key in self._data

    def clear(self) -> None:
        self._data.clear()
        self.hits = self.misses = 0
