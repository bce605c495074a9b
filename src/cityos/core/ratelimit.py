"""Per-client rate limits for the public endpoints, so a flood gets 429s and others get answers.

A fixed window per (bucket, client address): cheap, in memory, per process. Behind a proxy,
set ``CITYOS_TRUSTED_PROXY_HOPS`` so the client is read from ``X-Forwarded-For``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from threading import Lock

from fastapi import Request

from cityos.core.errors import ProblemError
from cityos.core.web import settings_of


class TooManyRequestsProblem(ProblemError):
    status = 429
    type_slug = "too-many-requests"
    title = "Too many requests / リクエストが多すぎます"


class RateLimiter:
    """At most ``limit`` hits per ``window_s`` seconds for each key."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._counts: dict[str, tuple[float, int]] = {}
        self._lock = Lock()

    def hit(self, key: str, now: float | None = None) -> float:
        """Count a hit; returns 0 when allowed, else the seconds until the window resets."""
        now = time.monotonic() if now is None else now
        with self._lock:
            start, count = self._counts.get(key, (now, 0))
            if now - start >= self.window_s:
                start, count = now, 0
            if count >= self.limit:
                return max(0.0, self.window_s - (now - start))
            self._counts[key] = (start, count + 1)
            if len(self._counts) > 100_000:  # forget finished windows
                self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window_s}
            return 0.0


def client_address(request: Request) -> str:
    hops = settings_of(request).trusted_proxy_hops
    if hops > 0:
        forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.client.host if request.client else "unknown"


def rate_limited(bucket: str, per_minute: Callable[[Request], int]) -> Callable[[Request], None]:
    """A FastAPI dependency: 429 with Retry-After once a client passes its share of ``bucket``."""

    def check(request: Request) -> None:
        limiters: dict[str, RateLimiter] = request.app.state.rate_limiters
        limit = per_minute(request)
        limiter = limiters.get(bucket)
        if limiter is None or limiter.limit != limit:
            limiter = limiters[bucket] = RateLimiter(limit)
        wait = limiter.hit(client_address(request))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequestsProblem(
                f"リクエストが多すぎます。{seconds} 秒後にもう一度お試しください / too many requests: "
                f"try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    return check
