"""Gunicorn settings: one gevent worker holds every charger's websocket (see docs/performance.md)."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8888")
worker_class = "gevent"
workers = 1
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "20000"))
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
