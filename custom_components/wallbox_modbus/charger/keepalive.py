"""Keeping a box from falling back, whatever the user changes and in what order.

Three kinds, as a map's ``keepalive`` section names them:

- ``write``: write a value to an alive register every ``timeout / per_timeout``
  (Vestel: 1 to 6000, every failsafe timeout / 4);
- ``traffic``: any successful transaction within the watchdog serves it; when
  polling is slower, a poll of the fast tier is asked for (Amperfied 257);
- ``rewrite``: write the limits again within the fallback timeout (Compleo:
  whether reads reset its timer is not confirmed, so writes are used).

The next keepalive is always due within the box's current timeout divided by
``per_timeout`` (at least 2, so that one lost reply is survived: the charger
gives up a reply after one interval at the most, and tries again), counted from
the last time it was served: a change of the timeout takes effect at once,
and before a timeout is shortened the keepalive is served first.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .reader import PointReader
from .spec import KeepaliveSpec
from .timers import Due

RETRY = 1.0  # seconds between attempts while the box does not answer


class Keepalive(ABC):
    """One box's keepalive."""

    poll = False

    def __init__(
        self, spec: KeepaliveSpec, reader: PointReader, clock: Callable[[], float]
    ) -> None:
        self.spec = spec
        self._reader = reader
        self._clock = clock
        self.count = 0
        self.last: float | None = None  # when it was last served
        self._retry_at: float | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    def timeout(self, values: Mapping[str, Any] | None = None) -> float | None:
        """The box's timeout in seconds now (None: off, or none)."""
        values = self._reader.values if values is None else values
        if self.spec.timeout_point is not None:
            value = values.get(self.spec.timeout_point)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value) or None  # 0 switches the box's timeout off
        return self.spec.timeout

    def interval(self, timeout: float | None = None) -> float | None:
        """Seconds between keepalives (None: nothing to keep alive)."""
        if self.spec.every is not None:
            return self.spec.every
        timeout = self.timeout() if timeout is None else timeout
        return None if not timeout else max(0.5, timeout / self.spec.per_timeout)

    def last_served(self) -> float | None:
        return self.last

    def lapsed(self) -> bool:
        """Whether the box went longer than its timeout unserved (it may have fallen back)."""
        last, timeout = self.last_served(), self.timeout()
        return last is not None and timeout is not None and self._clock() - last > timeout

    def due(self) -> Due | None:
        interval = self.interval()
        if interval is None:
            return None
        last = self.last_served()
        at = self._clock() if last is None else last + interval
        if self._retry_at is not None:
            at = max(at, self._retry_at)
        return Due(at=at, what=f"keepalive ({self.kind})", poll=self.poll)

    async def run(self) -> None:
        """Serve the keepalive now (a failure is retried after a second)."""
        due = self.due()
        self._retry_at = self._clock() + RETRY
        await self._serve()
        self._served(due)

    def _served(self, due: Due | None) -> None:
        """Count from the due time when a little late, so that the period never drifts."""
        now = self._clock()
        interval = self.interval()
        self.count += 1
        late = due is not None and interval is not None and 0 <= now - due.at < interval
        self.last = due.at if late and due is not None else now
        self._retry_at = None

    @abstractmethod
    async def _serve(self) -> None:
        """Do what keeps the box from falling back."""

    async def before_timeout_change(self, new_timeout: float) -> None:
        """Serve first when the box's timeout is about to become shorter."""
        current = self.timeout()
        if new_timeout and (current is None or new_timeout < current):
            await self.run()

    def is_timeout(self, key: str) -> bool:
        return key == self.spec.timeout_point

    def info(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "timeout": self.timeout(),
            "interval": self.interval(),
            "count": self.count,
            "last": self.last,
        }


class AliveWrite(Keepalive):
    """Write a value to the alive register."""

    async def _serve(self) -> None:
        assert self.spec.point is not None
        point = self._reader.find(self.spec.point)
        assert point is not None
        await self._reader.transport.write_register(point.address, self.spec.value)


class TrafficWatchdog(Keepalive):
    """Any successful transaction serves the watchdog; a poll is asked for when due.

    The next poll is due one interval (the one in force now) after the last
    successful transaction or the last poll asked for, whichever is later: a
    shorter watchdog, written here or seen in a poll, shortens it at once.
    """

    poll = True

    def last_served(self) -> float | None:
        return self._reader.transport.stats.last_success

    def due(self) -> Due | None:
        interval = self.interval()
        served = self.last_served()
        if interval is None or served is None:
            return None  # nothing was ever read: the first poll comes anyway
        since = served if self.last is None else max(served, self.last)
        return Due(at=since + interval, what=f"keepalive ({self.kind})", poll=True)

    def requested(self) -> None:
        """A poll was started for the watchdog: ask again one interval later at the soonest."""
        self.count += 1
        self.last = self._clock()

    async def before_timeout_change(self, new_timeout: float) -> None:
        """Nothing to do: the write of the new watchdog is itself traffic."""

    async def _serve(self) -> None:  # pragma: no cover - served by polls
        raise NotImplementedError


class LimitRewrite(Keepalive):
    """Write every connector's limit again (the writes reset the box's fallback timer)."""

    def __init__(
        self,
        spec: KeepaliveSpec,
        reader: PointReader,
        clock: Callable[[], float],
        rewrite: Callable[[], Awaitable[bool]],
        last_write: Callable[[], float | None],
    ) -> None:
        super().__init__(spec, reader, clock)
        self._rewrite = rewrite
        self._last_write = last_write

    def last_served(self) -> float | None:
        """The last rewrite, or the last limit write of every connector if later."""
        times = [t for t in (self.last, self._last_write()) if t is not None]
        return max(times) if times else None

    async def run(self) -> None:
        due = self.due()
        self._retry_at = self._clock() + RETRY
        if await self._rewrite():  # nothing to write before the limits are known
            self._served(due)

    async def _serve(self) -> None:  # pragma: no cover - run() is overridden
        await self._rewrite()


def make_keepalive(
    spec: KeepaliveSpec,
    reader: PointReader,
    clock: Callable[[], float],
    *,
    rewrite: Callable[[], Awaitable[bool]],
    last_write: Callable[[], float | None],
) -> Keepalive:
    if spec.kind == "write":
        return AliveWrite(spec, reader, clock)
    if spec.kind == "traffic":
        return TrafficWatchdog(spec, reader, clock)
    return LimitRewrite(spec, reader, clock, rewrite, last_write)
