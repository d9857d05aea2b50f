"""gunicorn settings for production (make serve runs this stack locally). Values come from the environment."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One worker a core and one more, for a request that waits (an upload, an export, a slow query): a page costs
# 4-8 ms of CPU, nearly all of it Python, so more workers than cores only take turns on them, and each turn costs
# the caches of the process it displaced. On a 2-core machine that also ran PostgreSQL, 3 workers served 13 of 16
# pages more often than 5 (gunicorn's usual 2 x cores + 1), by up to 24%, and 2 served all 16 more often
# (bench/README.md, stop 29).
workers = int(os.environ.get("GUNICORN_WORKERS", str((os.cpu_count() or 1) + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
wsgi_app = "hbwsrc.wsgi:application"
# Recycle workers now and then so memory cannot creep up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
timeout = 30
graceful_timeout = 20
accesslog = "-"
# The path without its query string and no Referer: a query string or a previous page's URL may carry an ID
# number or a name typed into a GET form (the reverse proxy's own log must leave them out too: SECURITY.md).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
errorlog = "-"
# The reverse proxy in front sets X-Forwarded-For; trust only it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The master imports the application once and each worker starts as a copy of it: a worker recycled by
# max_requests is serving again at once instead of importing Django and the project anew (about a second of CPU
# taken from the other workers, each time, under load).
preload_app = True

# The preloaded master holds some 130,000 objects (Django, the project, the URL index, the catalogs) that live as
# long as the workers: frozen once, after a collection (so that no garbage is kept for good) and before the first
# worker is forked, they are no longer walked by any worker's garbage collector. A request allocates thousands of
# objects, nearly all freed by reference counting, so the young generation is collected every 7,000 allocations
# rather than every 700 (Python's default; far larger thresholds only make each collection a longer pause). The
# collector's share of a record list: 0.30-0.34 ms a request, now 0.15 (bench/README.md, stop 21).
GC_YOUNG_THRESHOLD = 7_000


def when_ready(server):  # in the master, after the application is preloaded, before any worker is forked
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
