"""What a map cannot say: one small strategy per family, where one is needed.

A strategy sees every refresh and may ask for the connection to be reopened
before the next one.  A map names its strategy (``"strategy": "vestel"``);
without one the map's data is all there is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar


class Strategy:
    """The default: nothing beyond the map."""

    name: ClassVar[str] = "none"

    def __init__(self, title: str, clock: Callable[[], float]) -> None:
        self.title = title
        self.clock = clock
        self._reopen = False

    def after_refresh(self, values: Mapping[str, Any], failed: frozenset[str]) -> None:
        """Look at what a refresh read."""

    def request_reopen(self) -> None:
        self._reopen = True

    def take_reopen(self) -> bool:
        """Whether the connection is to be reopened before the next refresh (asked once)."""
        reopen, self._reopen = self._reopen, False
        return reopen

    def info(self) -> dict[str, Any]:
        return {}
