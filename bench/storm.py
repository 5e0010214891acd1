"""Reconnect storm: N known chargers connect as fast as they can, as after a restart.

Every simulated charger (``URL/storm-<process>-<n>``, OCPP 1.6) opens its websocket at once,
sends a BootNotification and keeps the connection open until the whole fleet has booted (or the
deadline). A handshake answered 503 is retried after its ``Retry-After``; one that fails
otherwise (timeout, reset) after a jittered backoff of 1, 2, 4 ... up to 30 s, as chargers do;
a BootNotification left unanswered for ``--boot-timeout`` seconds closes the connection and the
charger starts over. Reported: connect p50/p99 (successful handshakes), Boot answered p50/p99
and how many within 10 s, 503s, other connect failures, chargers that never booted, the time
until the last Boot was answered, and the load client's CPU share. ``--workload issue`` follows
each Boot with a StatusNotification, and for 30 % of the chargers an Authorize and a
StartTransaction (the storm of issue 10); their answers are counted too.

Client only::

    python bench/storm.py --url ws://127.0.0.1:8888/ocpp --chargers 5000 --processes 1

Side by side, each on a fresh server with the fleet pre-enrolled (``compare.Server``)::

    bench/storm.py --serve --previous main --chargers 5000 \\
        --variant "off:OCPP_ADMISSION_MAX_BACKLOG=0,OCPP_ADMISSION_MAX_PENDING_HANDSHAKES=0"

127.0.0.1 only, at most 5,000 chargers per client process (the open-files limit is 20,000),
and bounded by ``--deadline`` seconds.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from pathlib import Path

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fleet import machine_busy_s, server_cpu_s, server_rss_mb  # noqa: E402

MAX_PER_PROCESS = 5000
BOOT = ('[2,"b","BootNotification",{"chargePointVendor":"Constellation",'
        '"chargePointModel":"StormSim","chargePointSerialNumber":"%s"}]')


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def _charger(url: str, identity: str, t0: float, stop_at: float, stats: dict,
                   connect_timeout: float, boot_timeout: float, booted_count,
                   total: int, after_boot: bool) -> None:
    clock = time.perf_counter
    failures = 0
    while clock() < stop_at:
        began = clock()
        try:
            ws = await connect(f"{url}/{identity}", subprotocols=["ocpp1.6"], compression=None,
                               open_timeout=connect_timeout, ping_interval=None, close_timeout=1,
                               max_queue=4)
        except InvalidStatus as exc:
            response = exc.response
            if response.status_code == 503:
                stats["refused"] += 1
                try:
                    delay = float(response.headers.get("Retry-After", "5"))
                except ValueError:
                    delay = 5.0
                await asyncio.sleep(min(delay, max(0.0, stop_at - clock())))
                continue
            stats["errors"][f"HTTP {response.status_code}"] = (
                stats["errors"].get(f"HTTP {response.status_code}", 0) + 1)
            failures += 1
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            kind = type(exc).__name__
            stats["errors"][kind] = stats["errors"].get(kind, 0) + 1
            failures += 1
        else:
            stats["connect_ms"].append((clock() - began) * 1000)
            sent = clock()
            try:
                await ws.send(BOOT % identity)
                async with asyncio.timeout(boot_timeout):
                    reply = json.loads(await ws.recv())
            except TimeoutError:
                stats["boot_timeout"] += 1
                await ws.close()
                continue
            except (OSError, websockets.ConnectionClosed) as exc:
                kind = "boot " + type(exc).__name__
                stats["errors"][kind] = stats["errors"].get(kind, 0) + 1
                continue
            answered = clock()
            if not (reply[0] == 3 and reply[2].get("status") == "Accepted"):
                stats["errors"]["boot not Accepted"] = stats["errors"].get(
                    "boot not Accepted", 0) + 1
                await ws.close()
                return
            stats["boot_ms"].append((answered - sent) * 1000)
            stats["booted_at"].append(answered - t0)
            with booted_count.get_lock():
                booted_count.value += 1
            if after_boot:
                await _after_boot(ws, identity, stats, boot_timeout)
            # Held open like a real charger until the fleet is up (or the deadline).
            while clock() < stop_at and booted_count.value < total:
                await asyncio.sleep(0.5)
            await ws.close()
            return
        await asyncio.sleep(min(30.0, 2.0 ** (failures - 1)) * random.uniform(0.5, 1.0))
    stats["never_booted"] += 1


async def _after_boot(ws, identity: str, stats: dict, timeout: float) -> None:
    """What the issue's operator ran after the Boot: a StatusNotification, and for 30 % of the
    chargers an Authorize and a StartTransaction."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    frames = ['[2,"s","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
              f'"status":"Available","timestamp":"{now}"}}]']
    if int(identity.rsplit("-", 1)[1]) % 10 < 3:
        tag = "ST" + identity.rsplit("-", 2)[1] + "x" + identity.rsplit("-", 1)[1]
        frames += [f'[2,"a","Authorize",{{"idTag":"{tag}"}}]',
                   f'[2,"t","StartTransaction",{{"connectorId":1,"idTag":"{tag}",'
                   f'"meterStart":0,"timestamp":"{now}"}}]']
    for frame in frames:
        sent = time.perf_counter()
        try:
            await ws.send(frame)
            async with asyncio.timeout(timeout):
                reply = json.loads(await ws.recv())
        except (TimeoutError, OSError, websockets.ConnectionClosed) as exc:
            kind = "after boot " + type(exc).__name__
            stats["errors"][kind] = stats["errors"].get(kind, 0) + 1
            return
        if reply[0] != 3:
            stats["errors"]["after boot CALLERROR"] = stats["errors"].get(
                "after boot CALLERROR", 0) + 1
        stats["other_ms"].append((time.perf_counter() - sent) * 1000)


def _client(url: str, proc: int, count: int, total: int, deadline: float, start_at: float,
            connect_timeout: float, boot_timeout: float, booted_count, out,
            after_boot: bool) -> None:
    _raise_nofile()
    stats = {"refused": 0, "boot_timeout": 0, "never_booted": 0, "errors": {},
             "connect_ms": [], "boot_ms": [], "booted_at": [], "other_ms": []}

    async def main() -> None:
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        await asyncio.gather(*(
            _charger(url, f"storm-{proc}-{n}", t0, t0 + deadline, stats, connect_timeout,
                     boot_timeout, booted_count, total, after_boot)
            for n in range(count)))
        stats["cpu_s"] = time.process_time() - cpu0
        stats["wall_s"] = time.perf_counter() - t0

    asyncio.run(main())
    out.put(stats)


def identities(chargers: int, processes: int) -> list[str]:
    return [f"storm-{p}-{n}" for p, count in enumerate(_split(chargers, processes))
            for n in range(count)]


def _split(chargers: int, processes: int) -> list[int]:
    return [chargers // processes + (p < chargers % processes) for p in range(processes)]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_storm(url: str, chargers: int, processes: int, deadline: float,
              connect_timeout: float = 30.0, boot_timeout: float = 30.0,
              server_pid: int | None = None, after_boot: bool = False) -> dict:
    """Run the storm from ``processes`` client processes; the merged figures."""
    counts = _split(chargers, processes)
    if max(counts) > MAX_PER_PROCESS:
        raise SystemExit(f"at most {MAX_PER_PROCESS} chargers per client process")
    if not url.startswith("ws://127.0.0.1:"):
        raise SystemExit("the storm goes to ws://127.0.0.1:<port> only")
    ctx = mp.get_context("spawn")
    booted = ctx.Value("i", 0)
    out = ctx.Queue()
    start_at = time.time() + 1.0 + 0.3 * processes  # every process starts at the same moment
    procs = [ctx.Process(target=_client, args=(url, p, n, chargers, deadline, start_at,
                                               connect_timeout, boot_timeout, booted, out,
                                               after_boot))
             for p, n in enumerate(counts)]
    for p in procs:
        p.start()
    while time.time() < start_at:
        time.sleep(0.05)
    server0, machine0, wall0 = server_cpu_s(server_pid), machine_busy_s(), time.perf_counter()
    parts = [out.get(timeout=deadline + 120) for _ in procs]
    wall = time.perf_counter() - wall0
    server1, machine1 = server_cpu_s(server_pid), machine_busy_s()
    rss = server_rss_mb(server_pid)
    for p in procs:
        p.join(30)
    merged: dict = {"refused": 0, "boot_timeout": 0, "never_booted": 0, "errors": {},
                    "connect_ms": [], "boot_ms": [], "booted_at": [], "other_ms": [],
                    "cpu_s": 0.0}
    for part in parts:
        for key in ("refused", "boot_timeout", "never_booted", "cpu_s"):
            merged[key] += part[key]
        for key in ("connect_ms", "boot_ms", "booted_at", "other_ms"):
            merged[key] += part[key]
        for kind, n in part["errors"].items():
            merged["errors"][kind] = merged["errors"].get(kind, 0) + n
    boot_ms = merged["boot_ms"]
    return {
        "chargers": chargers, "processes": processes,
        "booted": len(boot_ms), "never_booted": merged["never_booted"],
        "connect_p50_ms": _pct(merged["connect_ms"], 0.5),
        "connect_p99_ms": _pct(merged["connect_ms"], 0.99),
        "boot_p50_ms": _pct(boot_ms, 0.5), "boot_p99_ms": _pct(boot_ms, 0.99),
        "boot_within_10s": sum(1 for v in boot_ms if v <= 10_000),
        "after_boot_answered": len(merged["other_ms"]),
        "after_boot_p99_ms": _pct(merged["other_ms"], 0.99),
        "refused_503": merged["refused"], "boot_timeouts": merged["boot_timeout"],
        "connect_errors": sum(merged["errors"].values()), "errors": merged["errors"],
        "all_booted_s": max(merged["booted_at"]) if merged["booted_at"] else None,
        "half_booted_s": _pct(merged["booted_at"], 0.5),
        "wall_s": wall,
        "client_cpu_pct": round(100 * merged["cpu_s"] / wall, 1),
        "server_cpu_pct": (round(100 * (server1 - server0) / wall, 1)
                           if server0 is not None else None),
        "machine_busy_pct": round(100 * (machine1[0] - machine0[0])
                                  / max(1e-9, machine1[1] - machine0[1]), 1),
        "server_rss_mb": rss,
    }


ROWS = (
    ("booted", "chargers booted", "{booted:,} / {chargers:,}"),
    ("never_booted", "never booted (failed for good)", "{never_booted}"),
    ("connect", "connect p50 / p99 ms", "{connect_p50_ms:,.0f} / {connect_p99_ms:,.0f}"),
    ("boot", "Boot answered p50 / p99 ms", "{boot_p50_ms:,.0f} / {boot_p99_ms:,.0f}"),
    ("within", "Boots answered within 10 s", "{boot_within_10s:,}"),
    ("refused", "503 answers", "{refused_503:,}"),
    ("errors", "other connect failures", "{connect_errors:,}"),
    ("timeouts", "Boots unanswered after 30 s", "{boot_timeouts:,}"),
    ("after", "Status/Authorize/Start answered, p99 ms",
     "{after_boot_answered:,}, {after_boot_p99_ms:,.0f}"),
    ("half", "half / all booted after s", "{half_booted_s:.1f} / {all_booted_s:.1f}"),
    ("server", "server CPU % of a core", "{server_cpu_pct}"),
    ("client", "load client CPU % of a core", "{client_cpu_pct}"),
)


def _cell(fmt: str, result: dict) -> str:
    try:
        return fmt.format(**result)
    except (TypeError, ValueError):
        return "-"


def table(results: list[tuple[str, dict]]) -> str:
    header = ["storm", *(name for name, _ in results)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([label, *(_cell(fmt, r) for _, r in results)]) + " |"
              for _, label, fmt in ROWS]
    return "\n".join(lines)


def serve_and_storm(args: argparse.Namespace) -> list[tuple[str, dict]]:
    """Fresh servers side by side: this checkout, its variants, and ``--previous``."""
    import subprocess

    from compare import ROOT, Server, free_port, previous_checkout

    env = dict(e.split("=", 1) for e in args.env)
    runs: list[tuple[str, str, Path, dict]] = []
    root_prev = None
    if args.previous:
        root_prev = previous_checkout(args.previous)
        runs.append((args.previous, "previous", root_prev, env))
    runs.append(("now", "ours", ROOT, env))
    for variant in args.variant:
        name, _, settings = variant.partition(":")
        extra = dict(kv.split("=", 1) for kv in settings.split(",") if kv)
        runs.append((f"now, {name}", "ours", ROOT, {**env, **extra}))
    outdir = Path(args.out or ROOT / "bench" / "results" / time.strftime("storm-%Y%m%d-%H%M%S"))
    outdir.mkdir(parents=True, exist_ok=True)
    enrol = identities(args.chargers, args.processes)
    results = []
    try:
        for _ in range(args.rounds):
            for name, kind, root, server_env in runs:
                slug = name.replace(" ", "").replace(",", "-")
                server = Server(kind, free_port(), outdir / f"{slug}.server.log", server_env,
                                enrol, root)
                try:
                    print(f"== {name}: {args.chargers} chargers", flush=True)
                    result = run_storm(server.url, args.chargers, args.processes, args.deadline,
                                       server_pid=server.proc.pid,
                                       after_boot=args.workload == "issue")
                finally:
                    server.stop()
                result.update(server=name, env=server_env)
                (outdir / f"{slug}.json").write_text(json.dumps(result, indent=2))
                print("   ->", {k: result[k] for k in ("booted", "refused_503", "boot_p99_ms",
                                                        "all_booted_s")}, flush=True)
                results.append((name, result))
    finally:
        if root_prev is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(root_prev)], cwd=ROOT,
                           capture_output=True)
    (outdir / "table.md").write_text(table(results))
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Reconnect storm against a CSMS on 127.0.0.1")
    p.add_argument("--url", default="ws://127.0.0.1:8888/ocpp")
    p.add_argument("--chargers", type=int, default=2000)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--deadline", type=float, default=120.0,
                   help="seconds after which a charger that has not booted gives up")
    p.add_argument("--server-pid", type=int, default=0)
    p.add_argument("--workload", choices=("boot", "issue"), default="boot",
                   help="issue: after the Boot a StatusNotification, and for 30 %% of the "
                        "chargers Authorize + StartTransaction (issue 10's storm)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--serve", action="store_true",
                   help="start fresh servers (this checkout, --variant, --previous) in turn")
    p.add_argument("--previous", default="", metavar="REF")
    p.add_argument("--variant", action="append", default=[], metavar="NAME:K=V,K=V",
                   help="also run this checkout with these server settings")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    _raise_nofile()
    if args.serve:
        results = serve_and_storm(args)
        print("\n" + table(results))
        return 0 if all(r["never_booted"] == 0 for _, r in results) else 1
    result = run_storm(args.url, args.chargers, args.processes, args.deadline,
                       server_pid=args.server_pid or None, after_boot=args.workload == "issue")
    print(json.dumps(result, indent=2) if args.json else table([("result", result)]))
    return 0 if result["never_booted"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
