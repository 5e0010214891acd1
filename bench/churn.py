"""Connection churn: does the server give back the memory of chargers that came and went?

Starts Constellation the way the tests do (fresh instance directory, ``flask db upgrade``,
``gunicorn -c gunicorn.conf.py`` on a free port of 127.0.0.1), then runs ``--rounds`` rounds of
``--cycles`` connect/close cycles: a charger with a new identity connects to
``/ocpp/churn-<round>-<n>`` (subprotocol ``ocpp1.6``), sends a BootNotification, waits for the
reply and closes. ``--concurrency`` cycles run at a time. ``--deflate`` offers
permessage-deflate (the ``websockets`` default, and many chargers'); ``--reconnect`` makes each
cycle connect twice, so that the server closes the replaced first connection.

Prints the RSS (VmRSS) of the gunicorn worker before the churn, after each round, and after the
server's own periodic full collection (``GC_FULL_COLLECT_SECONDS``, set short here; the bench
waits for its log line), with the load client's CPU share per round. Bounded: at most
``--rounds`` x ``--cycles`` connections and ``--max-seconds`` in all; the server is stopped at
the end.

    .venv/bin/python bench/churn.py --rounds 4 --cycles 2000 --deflate
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
BOOT = '[2,"{uid}","BootNotification",{{"chargePointVendor":"Bench","chargePointModel":"Churn"}}]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_pid(master: int) -> int | None:
    """The gunicorn worker: the master's (only) child."""
    try:
        with open(f"/proc/{master}/task/{master}/children") as fh:
            children = [int(x) for x in fh.read().split()]
    except OSError:
        return None
    return children[0] if children else None


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.instance = tempfile.mkdtemp(prefix="constellation-churn-")
        self.port = free_port()
        self.env = {**os.environ, "CONSTELLATION_INSTANCE_DIR": self.instance,
                    "LOG_LEVEL": "INFO", **env}
        self.log_path = Path(self.instance) / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                       env=self.env, check=True, capture_output=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log_path.read_text()[-3000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                    if b" 200 " in s.recv(100):
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in 30 s")

    @property
    def worker(self) -> int:
        assert self.proc is not None
        pid = worker_pid(self.proc.pid)
        if pid is None:
            raise RuntimeError("no gunicorn worker")
        return pid

    def collections(self) -> int:
        text = self.log_path.read_text(errors="replace")
        return len(re.findall(r"full garbage collection:", text))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _connect_and_boot(url: str, identity: str, deflate: bool):
    ws = await websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"],
                                  compression="deflate" if deflate else None, ping_interval=None)
    await ws.send(BOOT.format(uid="b1"))
    reply = json.loads(await ws.recv())
    if reply[0] != 3 or reply[2].get("status") != "Accepted":
        raise BootFailed()
    return ws


class BootFailed(Exception):
    pass


async def cycle(url: str, identity: str, timeout: float, deflate: bool,
                reconnect: bool = False) -> str | None:
    """One charger: connect, boot, close. Returns an error kind, or None.

    ``reconnect``: connect and boot again before closing, so that the server closes the first
    connection (replaced by the second).
    """
    try:
        async with asyncio.timeout(timeout):
            ws = await _connect_and_boot(url, identity, deflate)
            try:
                if reconnect:
                    ws2 = await _connect_and_boot(url, identity, deflate)
                    await ws.wait_closed()
                    ws, ws2 = ws2, ws
            finally:
                await ws.close()
    except BootFailed:
        return "boot_failed"
    except TimeoutError:
        return "timeout"
    except (OSError, websockets.WebSocketException):
        return "connect_failed"
    return None


async def churn(url: str, round_no: int, cycles: int, concurrency: int,
                timeout: float, deflate: bool, reconnect: bool) -> dict[str, int]:
    sem = asyncio.Semaphore(concurrency)
    errors: dict[str, int] = {}

    async def one(n: int) -> None:
        async with sem:
            kind = await cycle(url, f"churn-{round_no}-{n}", timeout, deflate, reconnect)
        if kind:
            errors[kind] = errors.get(kind, 0) + 1

    await asyncio.gather(*(one(n) for n in range(cycles)))
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--cycles", type=int, default=2000, help="connect/close cycles per round")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per cycle")
    ap.add_argument("--collect-seconds", type=float, default=15.0,
                    help="the server's GC_FULL_COLLECT_SECONDS for this run")
    ap.add_argument("--deflate", action="store_true",
                    help="offer permessage-deflate, as the websockets client does by default")
    ap.add_argument("--reconnect", action="store_true",
                    help="each cycle connects twice with one identity: the server closes the first")
    ap.add_argument("--max-seconds", type=float, default=900.0, help="stop after this long")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra server environment, e.g. GC_FREEZE_SURVIVORS=0")
    args = ap.parse_args()
    if args.rounds * args.cycles > 50_000:
        ap.error("at most 50,000 connections per run")

    env = {"LOG_LEVEL": "WARNING", "OCPP_UNKNOWN_CHARGERS": "accept",
           "GC_FULL_COLLECT_SECONDS": str(args.collect_seconds)}
    env.update(item.split("=", 1) for item in args.env)
    env["LOG_LEVEL"] = "INFO"  # the full collection's log line tells when it ran
    started = time.monotonic()
    srv = Server(env).start()
    try:
        url = f"ws://127.0.0.1:{srv.port}/ocpp"
        # Load the code paths once.
        asyncio.run(cycle(url, "churn-warmup", args.timeout, args.deflate))
        time.sleep(1.0)
        print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}")
        print(f"server worker pid {srv.worker}, env {' '.join(args.env) or '(defaults)'}, "
              f"deflate {args.deflate}, reconnect {args.reconnect}, "
              f"concurrency {args.concurrency}")
        before = rss_mb(srv.worker)
        print(f"before churn          RSS {before:8.1f} MB")
        for r in range(1, args.rounds + 1):
            if time.monotonic() - started > args.max_seconds:
                print("time limit reached")
                break
            cpu0, t0 = time.process_time(), time.monotonic()
            errors = asyncio.run(churn(url, r, args.cycles, args.concurrency, args.timeout,
                                       args.deflate, args.reconnect))
            wall = time.monotonic() - t0
            cpu = (time.process_time() - cpu0) / wall * 100
            print(f"after round {r} ({args.cycles} cycles, {wall:5.1f} s, client CPU {cpu:3.0f} %) "
                  f"RSS {rss_mb(srv.worker):8.1f} MB  errors {errors or 'none'}")
        if env.get("GC_FREEZE_SURVIVORS", "1") in ("0", "false", "no", "off"):
            time.sleep(args.collect_seconds)  # no periodic collection without the policy
            label = "after idle wait      "
        else:
            seen = srv.collections()
            deadline = time.monotonic() + args.collect_seconds * 2 + 10
            while srv.collections() == seen and time.monotonic() < deadline:
                time.sleep(0.5)
            if srv.collections() == seen:
                print("the server's full collection did not run in time")
            label = "after full collection"
        after = rss_mb(srv.worker)
        change = (after - before) / before * 100
        print(f"{label} RSS {after:8.1f} MB  ({change:+.0f} % against before)")
        return 0
    finally:
        srv.stop()


def cpu_model() -> str:
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
