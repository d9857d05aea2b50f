"""A fixed-window rate limiter on Django's cache, and the one place that says who the client is.

``hit("verify", client_ip(request), 20, 60)`` counts one request of that client in the current 60-second window
and answers whether it is still within 20. The counter lives under a key carrying the window's number, so it
starts again at zero when the next window begins and the old key simply expires. A burst straddling two windows
may get up to twice the limit through; that is the price of two cache operations per request.

The count is only shared between processes when the cache is: the default local-memory cache counts per worker.
"""

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def hit(scope: str, key: str, limit: int, window: int) -> bool:
    """Count one request of ``key`` in ``scope``; True while at most ``limit`` were made in this ``window``."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]  # any key becomes a valid cache key
    cache_key = f"ratelimit:{scope}:{digest}:{int(time.time() // window)}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the
    outermost of them saw, which is that many entries from the right of X-Forwarded-For (whatever the client
    put further left is not trusted). Also the client address of django-axes and of the audit trail."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return remote  # a proxy did not add its entry: misconfigured, do not guess
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
