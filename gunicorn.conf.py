"""Gunicorn settings: gevent workers, each holding its share of the charger sockets
(docs/performance.md). ``WEB_WORKERS`` sets how many (1 by default; more need ``REDIS_URL``)."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8888")
worker_class = "gevent"
try:
    workers = max(1, int(os.environ.get("WEB_WORKERS", "").strip() or "1"))
except ValueError:
    workers = 1  # on_starting names the bad value and stops
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "20000"))
# Connections not accepted yet: a reconnect storm overflows gunicorn's 2048 and the chargers
# beyond it wait for SYN retransmits (1, 3, 7 ... s) or are reset. The kernel caps it at
# net.core.somaxconn (4096 on these hosts).
backlog = 4096
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's control socket has one default path per user: several servers on a host (tests,
# benchmarks) would fight over it, and nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Before any worker: a wrong setting or an unreachable database is one line and exit 4."""
    from app.startup import check_or_exit

    check_or_exit()


def post_worker_init(worker):
    """Before serving: clear the connection marks and commands a killed process left behind."""
    import wsgi
    from app import runtime

    runtime.startup(wsgi.app)


def worker_exit(server, worker):
    """Flush the group writer (message log, last-seen times) before the worker goes."""
    try:
        import wsgi
        from app import runtime

        runtime.shutdown(wsgi.app)
    except Exception as exc:  # noqa: BLE001 - shutting down anyway
        server.log.warning("could not flush the writer at exit: %s", exc)
