"""Retries with exponential backoff and jitter, shared by the downloader and the instruments API client.

Retried: HTTP 429 (honouring ``Retry-After``), 408/425 and 5xx, and transport failures (refused or
dropped connections, timeouts, a body cut short). Not retried: other 4xx (a wrong symbol, date or key
will not fix itself).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, and how long to wait between them."""

    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 600.0
    """A server's ``Retry-After`` is honoured up to this many seconds."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        A server-given ``Retry-After`` wins (capped); otherwise ``base * 2**(attempt-1)`` capped at
        ``max_delay_s``, with up to 50% random jitter so concurrent workers do not retry in lockstep.
        """
        if retry_after_s is not None:
            return max(0.0, min(float(retry_after_s), self.max_retry_after_s))
        backoff: float = min(self.max_delay_s, self.base_delay_s * 2.0 ** (attempt - 1))
        return backoff * (1.0 + 0.5 * random.random())


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header: delta-seconds or an HTTP date. None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
