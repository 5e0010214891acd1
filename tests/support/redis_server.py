"""A real redis-server of its own on a free port, which a test can stop and start again."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

import redis

from tests.support.server import free_port


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (test.sh installs it)")
        self.binary = binary
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="constellation-redis-")
        self.proc: subprocess.Popen | None = None
        self.started = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        # The first start may find its free port taken by another process (a test suite
        # running beside this one): then it takes another. A restart keeps its port.
        for attempt in range(3):
            if self._start():
                self.started = True
                return self
            if self.started or attempt == 2:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server exited at start on port {self.port}")

    def _start(self) -> bool:
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no",
                                      "--dir", self.workdir], stdout=subprocess.DEVNULL)
        # Short timeouts: a port taken by another process may accept and never answer.
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                return False  # exited: the port was taken
            try:
                client.ping()
                return True
            except (redis.ConnectionError, redis.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
