"""A fair share of the one encoder: at most a few assistant turns at a time per client.

The rate limit counts requests; it does not stop one client from sending twenty at once, each holding a worker
thread and queuing on the shared encoder in front of everybody else. Here a client's extra requests wait
behind its own, for a bounded time, then get a 429; other clients are never behind them. A few turns rather
than one: several counsellors behind one structure's proxy share an address.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class TurnBusy(Exception):
    """The client's previous turn did not finish within the wait."""


class TurnGate:
    """One semaphore per client key, forgotten when idle (the table stays bounded)."""

    MAX_CLIENTS = 10_000

    def __init__(self, wait_s: float, per_client: int = 1) -> None:
        """`per_client` 0 lets every turn in (no gate)."""
        self._wait_s = wait_s
        self._per_client = per_client
        self._lock = threading.Lock()
        self._slots: dict[str, tuple[threading.Semaphore, int]] = {}

    @contextmanager
    def turn(self, client: str) -> Iterator[None]:
        """Hold one of the client's slots for the duration of the block; TurnBusy when none frees in time."""
        if self._per_client <= 0:
            yield
            return
        semaphore = self._enter(client)
        if not semaphore.acquire(timeout=self._wait_s):
            self._leave(client)
            raise TurnBusy(client)
        try:
            yield
        finally:
            semaphore.release()
            self._leave(client)

    def _enter(self, client: str) -> threading.Semaphore:
        with self._lock:
            semaphore, users = self._slots.get(client, (None, 0))
            if semaphore is None:
                if len(self._slots) >= self.MAX_CLIENTS:
                    raise TurnBusy(client)  # ten thousand clients mid-turn: the server is saturated anyway
                semaphore = threading.Semaphore(self._per_client)
            self._slots[client] = (semaphore, users + 1)
            return semaphore

    def _leave(self, client: str) -> None:
        with self._lock:
            semaphore, users = self._slots[client]
            if users <= 1:
                del self._slots[client]
            else:
                self._slots[client] = (semaphore, users - 1)
