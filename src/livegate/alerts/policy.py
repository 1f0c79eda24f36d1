"""Throttling and de-duplication per alert key, in session-clock time (docs/alerts.md, "Throttling").

An alert passes two windows, in this order:

1. **throttle** (``[alerts] throttle_secs``): per key, one delivery per window; any alert of
   the same key inside the window is *throttled*, counted, and the count is carried into
   the next delivered alert of that key ("3 more since …").
2. **de-duplication** (``[alerts] dedup_secs``): after the throttle window, an alert
   identical to one delivered (same key, title and body) is a *duplicate* until this
   window ends, so a condition that repeats unchanged is not announced every few minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from livegate.alerts.model import Alert

__all__ = ["Admission", "AlertPolicy", "Verdict"]

_MS_PER_SEC = 1000
#: Fingerprints kept before old ones (outside the de-duplication window) are pruned.
_PRUNE_AT = 1024


class Verdict(StrEnum):
    """What the policy decides about one alert."""

    SEND = "send"
    THROTTLED = "throttled"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Admission:
    """The policy's decision; ``suppressed`` is how many alerts of the key were throttled since its last delivery."""

    verdict: Verdict
    suppressed: int = 0


class AlertPolicy:
    """Decide per alert whether it is sent, throttled or a duplicate.

    Parameters
    ----------
    throttle_secs, dedup_secs:
        The windows, seconds of session time; 0 disables one.

    Not thread-safe: the dispatcher calls it under its lock.
    """

    __slots__ = ("_dedup_ms", "_last_by_key", "_last_by_print", "_suppressed", "_throttle_ms")

    def __init__(self, throttle_secs: float, dedup_secs: float) -> None:
        self._throttle_ms = int(throttle_secs * _MS_PER_SEC)
        self._dedup_ms = int(dedup_secs * _MS_PER_SEC)
        self._last_by_key: dict[str, int] = {}
        self._last_by_print: dict[tuple[str, str, str], int] = {}
        self._suppressed: dict[str, int] = {}

    def admit(self, alert: Alert, now_ms: int) -> Admission:
        """Return the verdict for ``alert`` at session time ``now_ms`` (ms since the epoch) and remember a send."""
        last = self._last_by_key.get(alert.key)
        if last is not None and self._throttle_ms > 0 and now_ms - last < self._throttle_ms:
            self._suppressed[alert.key] = self._suppressed.get(alert.key, 0) + 1
            return Admission(Verdict.THROTTLED)
        fingerprint = (alert.key, alert.title, alert.body)
        seen = self._last_by_print.get(fingerprint)
        if seen is not None and self._dedup_ms > 0 and now_ms - seen < self._dedup_ms:
            return Admission(Verdict.DUPLICATE)
        self._last_by_key[alert.key] = now_ms
        self._last_by_print[fingerprint] = now_ms
        if len(self._last_by_print) > _PRUNE_AT:
            self._prune(now_ms)
        return Admission(Verdict.SEND, self._suppressed.pop(alert.key, 0))

    def _prune(self, now_ms: int) -> None:
        horizon = now_ms - self._dedup_ms
        self._last_by_print = {k: t for k, t in self._last_by_print.items() if t >= horizon}
