"""What routing a command through Redis to another process adds, under load.

Starts a redis-server and two Constellation hosts (A and B: gunicorn on their own ports) on one
SQLite database, connects ``--responders`` chargers to host A that answer every command at once,
loads host A with ``bench/fleet.py`` (open-loop Heartbeats), and then sends ``--commands``
ClearCache commands through the REST API, alternating between host A (the charger's own
process: a local command) and host B (routed through Redis to A and back). Prints p50/p90/p99
of each and the difference, the fleet's own latencies and the load client's CPU share. Run::

    .venv/bin/python bench/routing.py [--fleet 2000 --interval 2 --commands 400]

Everything listens on 127.0.0.1 and stops at the end; nothing is left behind.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import free_port  # noqa: E402
from fleet import percentile, server_cpu_s  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def wait_healthy(url: str, proc: subprocess.Popen, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server did not become healthy: {url}")


def responders(url: str, count: int, ready: threading.Event, stop: threading.Event) -> None:
    """``count`` 1.6 chargers on ``url`` that accept every command at once."""
    from websockets.asyncio.client import connect

    async def one(n: int) -> None:
        async with connect(f"{url}/route-{n}", subprotocols=["ocpp1.6"],
                           compression=None) as ws:
            await ws.send('[2,"b","BootNotification",{"chargePointVendor":"bench",'
                          '"chargePointModel":"responder"}]')
            await ws.recv()
            while not stop.is_set():
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                except TimeoutError:
                    continue
                if frame[0] == 2:
                    await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

    async def main() -> None:
        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        await asyncio.sleep(1.0)
        ready.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fleet", type=int, default=2000, help="load chargers on host A")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between their Heartbeats")
    p.add_argument("--responders", type=int, default=20)
    p.add_argument("--commands", type=int, default=400, help="commands, half through each host")
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-routing-"))
    procs: list[subprocess.Popen] = []
    stop = threading.Event()
    try:
        redis_port = free_port()
        procs.append(subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port",
                                       str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                       "--dir", str(work)], stdout=subprocess.DEVNULL,
                                      start_new_session=True))
        env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
               "DATABASE_URL": f"sqlite:///{work}/shared.db", "LOG_LEVEL": "WARNING",
               "OCPP_UNKNOWN_CHARGERS": "accept", "CONSTELLATION_INSTANCE_DIR": str(work / "a")}
        flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run([*flask, "users", "create", "bench", "--password", "bench-password-1",
                        "--role", "admin"], cwd=ROOT, env=env, check=True, capture_output=True)
        token = subprocess.run([*flask, "users", "token", "bench"], cwd=ROOT, env=env,
                               check=True, capture_output=True, text=True
                               ).stdout.strip().splitlines()[-1].strip()
        hosts = {}
        for name in ("a", "b"):
            port = free_port()
            host_env = {**env, "CONSTELLATION_INSTANCE_DIR": str(work / name)}
            proc = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                                     "--bind", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT,
                                    env=host_env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            procs.append(proc)
            hosts[name] = (f"http://127.0.0.1:{port}", proc)
            wait_healthy(hosts[name][0], proc)
        url_a = hosts["a"][0].replace("http", "ws") + "/ocpp"

        ready = threading.Event()
        threading.Thread(target=responders, args=(url_a, args.responders, ready, stop),
                         daemon=True).start()
        if not ready.wait(30):
            raise SystemExit("the responders did not connect")
        duration = 20.0 + args.commands * 0.05
        fleet = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fleet.py"), "--url", url_a, "--json",
             "--chargers", str(args.fleet), "--workload", "heartbeat", "--mode", "open",
             "--interval", str(args.interval), "--warmup", "5", "--duration", str(duration),
             "--ramp", "500", "--server-pid", str(hosts["a"][1].pid)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True)
        time.sleep(5 + args.fleet / 500 + 2)  # the fleet is up and sending
        print(f"routing: {args.fleet} chargers on host A, one Heartbeat each per "
              f"{args.interval:g} s; {args.commands} ClearCache commands to {args.responders} "
              "chargers of host A, through A's API (local) and B's (routed)", flush=True)
        sessions = {name: requests.Session() for name in hosts}
        for s in sessions.values():
            s.headers["Authorization"] = f"Bearer {token}"
        latencies: dict[str, list[float]] = {"a": [], "b": []}
        cpu0 = {name: server_cpu_s(proc.pid) for name, (_, proc) in hosts.items()}
        t0 = time.monotonic()
        for i in range(args.commands):
            via = "a" if i % 2 == 0 else "b"
            target = f"route-{i % args.responders}"
            started = time.perf_counter()
            reply = sessions[via].post(f"{hosts[via][0]}/api/v1/chargers/{target}/commands",
                                       json={"action": "ClearCache"}, timeout=60)
            elapsed = (time.perf_counter() - started) * 1000
            if reply.status_code != 200 or reply.json()["status"] != "completed":
                raise SystemExit(f"command via {via} failed: {reply.status_code} {reply.text}")
            latencies[via].append(elapsed)
            if (i + 1) % 100 == 0:
                print(f"  {i + 1}/{args.commands} commands", flush=True)
        window = time.monotonic() - t0
        cpu = {name: (server_cpu_s(proc.pid) - cpu0[name]) / window * 100
               for name, (_, proc) in hosts.items()}
        out, _ = fleet.communicate(timeout=duration + 120)
        load = json.loads(out) if out.strip() else {}
        print()
        print(f"{'command through':<28}{'n':>6}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}")
        for via, label in (("a", "host A (local)"), ("b", "host B (routed via Redis)")):
            v = sorted(latencies[via])
            print(f"{label:<28}{len(v):>6}{statistics.median(v):>10.2f}"
                  f"{percentile(v, 90):>10.2f}{percentile(v, 99):>10.2f}")
        a, b = sorted(latencies["a"]), sorted(latencies["b"])
        print(f"{'added by routing':<28}{'':>6}{statistics.median(b) - statistics.median(a):>10.2f}"
              f"{percentile(b, 90) - percentile(a, 90):>10.2f}"
              f"{percentile(b, 99) - percentile(a, 99):>10.2f}")
        print(f"server CPU % of a core during the commands: A {cpu['a']:.0f}, B {cpu['b']:.0f}")
        if load:
            print(f"load on A: {load.get('connected')}/{args.fleet} connected, "
                  f"{load.get('msg_per_s')} msg/s, p50 {load.get('p50_ms')} ms, "
                  f"p99 {load.get('p99_ms')} ms, errors {load.get('errors')}, "
                  f"load client CPU {load.get('client_cpu_pct')} % of a core")
        return 0
    finally:
        stop.set()
        for proc in reversed(procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # each started its own session
                except ProcessLookupError:
                    pass
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
