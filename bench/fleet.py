"""Fleet simulator: connect N OCPP charge points (1.6J, 2.0.1 or 2.1) to a CSMS and measure its
answers.

Every simulated charger connects with the subprotocol of ``--ocpp`` (``ocpp1.6`` by default) to
``URL/bench-<process>-<n>``, sends a BootNotification (and, for the meter workload, a
StartTransaction, or in 2.x a TransactionEvent Started), waits until the whole fleet is up, then
runs the workload: Heartbeats, or meter values with three sampled values (1.6: MeterValues; 2.x:
TransactionEvent Updated with a rising seqNo, as 2.x chargers report a running session).
``--deflate`` negotiates permessage-deflate (RFC 7692), which a 2.x CSMS must support.

* ``--mode closed``: each charger sends its next CALL as soon as the previous reply arrives;
* ``--mode open --interval S``: each charger sends one CALL every S seconds, the chargers' start
  times spread evenly over the interval.

Only CALLs *sent* inside the measurement window (after ``--warmup``) are counted; latency is the
time from sending a CALL to receiving its CALLRESULT (``time.perf_counter``). Chargers are spread
over ``--processes`` client processes whose latencies are merged exactly.

The client uses the raw ``websockets`` asyncio API with pre-built JSON frames: the ``ocpp``
package's ChargePoint validates every frame against its schema, which would make the client, not
the server, the bottleneck.

Examples::

    python bench/fleet.py --url ws://127.0.0.1:8888/ocpp --chargers 200 --workload heartbeat \\
        --mode closed --duration 20 --warmup 5
    python bench/fleet.py --chargers 5000 --mode open --interval 5 --ramp 500 --processes 2 \\
        --server-pid "$(pgrep -of 'gunicorn.*wsgi:app')"
"""

from __future__ import annotations

import argparse
import array
import asyncio
import gc
import json
import math
import multiprocessing as mp
import os
import queue
import resource
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}

COUNTERS = (
    "connected",  # websocket open and BootNotification accepted
    "connect_failed",  # handshake failed or timed out
    "boot_failed",  # BootNotification not answered with status Accepted
    "sent",  # CALLs sent in the measurement window
    "answered",  # ... of which answered with a matching CALLRESULT
    "callerror",  # CALLERROR replies (any phase)
    "bad_reply",  # not a CALLRESULT for the id we sent, or unparsable
    "timeout",  # no reply within --timeout
    "disconnect",  # connection closed under us
    "late",  # open loop: a CALL sent later than scheduled (previous one still unanswered)
)


# --------------------------------------------------------------------------------------------
# Memory of the server under test


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p not in out and os.path.exists(f"/proc/{p}"):
            out.append(p)
            todo.extend(_children(p))
    return out


def server_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants."""
    if not pid:
        return None
    ticks = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        vals = [int(x) for x in fh.readline().split()[1:]]
    idle = vals[3] + vals[4]  # idle + iowait
    total = sum(vals[:8])  # guest time is already counted in user
    hz = os.sysconf("SC_CLK_TCK")
    return (total - idle) / hz, total / hz


def server_rss_mb(pid: int | None) -> float | None:
    """Resident set size of ``pid`` plus all its descendants (gunicorn master + worker), MB."""
    if not pid:
        return None
    total_kb, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                        break
        except OSError:
            continue
        todo.extend(_children(p))
    return total_kb / 1024 if seen else None


# --------------------------------------------------------------------------------------------
# One client process


@dataclass
class Plan:
    """What one client process must do; everything is picklable for ``spawn``."""

    url: str
    proc: int
    nprocs: int
    count: int  # chargers in this process
    total: int  # chargers across all processes (for spreading open-loop start times)
    workload: str
    mode: str
    interval: float
    ramp: float  # connections per second for this process
    timeout: float
    connect_timeout: float
    ocpp: str = "1.6"
    deflate: bool = False


@dataclass
class Shared:
    """Per-process state the charger coroutines update."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    latencies: array.array = field(default_factory=lambda: array.array("d"))
    begin: float = float("inf")  # the workload starts here (the warm-up begins)
    measure_start: float = float("inf")
    measure_end: float = float("inf")
    start: asyncio.Event = field(default_factory=asyncio.Event)
    errors: dict[str, int] = field(default_factory=dict)  # first error messages, for the report
    loop_lag: array.array = field(default_factory=lambda: array.array("d"))
    cpu_s: float = 0.0  # this client process's CPU time inside the measurement window


class ReplyError(Exception):
    """The CSMS answered something other than a CALLRESULT for our CALL."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


_ts_cache: list[Any] = [0, ""]


def _timestamp() -> str:
    # Formatting a datetime per frame costs more than the rest of the frame; a per-second cache
    # is accurate enough for meter values.
    now = int(time.time())
    if _ts_cache[0] != now:
        _ts_cache[0] = now
        _ts_cache[1] = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return _ts_cache[1]


async def _call(ws: ClientConnection, uid: str, frame: str, timeout: float) -> dict:
    """Send one pre-built CALL frame, return the CALLRESULT payload (validated for ``uid``)."""
    await ws.send(frame)
    async with asyncio.timeout(timeout):
        raw = await ws.recv()
    try:
        msg = json.loads(raw)
    except ValueError as exc:
        raise ReplyError("bad_reply", f"unparsable reply {raw[:80]!r}") from exc
    if type(msg) is list and len(msg) >= 3 and msg[1] == uid:
        if msg[0] == 3 and type(msg[2]) is dict:
            return msg[2]
        if msg[0] == 4:
            raise ReplyError("callerror", f"CALLERROR {msg[2:4]}")
    raise ReplyError("bad_reply", f"unexpected reply to {uid}: {raw[:120]!r}")


def _note(shared: Shared, kind: str, detail: str) -> None:
    shared.counts[kind] += 1
    key = f"{kind}: {detail}"[:160]
    if len(shared.errors) < 20 or key in shared.errors:
        shared.errors[key] = shared.errors.get(key, 0) + 1


async def charger(plan: Plan, shared: Shared, n: int, offset: float) -> None:
    """One simulated charge point: connect, boot, wait for the start signal, run the workload."""
    identity = f"bench-{plan.proc}-{n}"
    # mixed: 3 chargers in 10 charge (meter values in a transaction), the others only beat.
    workload = plan.workload if plan.workload != "mixed" else (
        "meter" if n % 10 < 3 else "heartbeat")
    try:
        ws = await connect(
            f"{plan.url}/{identity}",
            subprotocols=[SUBPROTOCOLS[plan.ocpp]],
            # 1.6 chargers rarely negotiate permessage-deflate; 2.x requires the CSMS to offer it.
            compression="deflate" if plan.deflate else None,
            open_timeout=plan.connect_timeout,
            ping_interval=None,  # keep-alive pings would only add noise to the measurement
            close_timeout=2,
            max_queue=4,
        )
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        cause = exc.__cause__ or exc.__context__
        _note(shared, "connect_failed", type(exc).__name__ + " " + str(exc)[:80]
              + (f" ({type(cause).__name__}: {str(cause)[:60]})" if cause else ""))
        return
    if ws.subprotocol != SUBPROTOCOLS[plan.ocpp]:
        _note(shared, "connect_failed", f"subprotocol {ws.subprotocol!r}")
        await ws.close()
        return
    seq = 0
    try:
        seq += 1
        v2 = plan.ocpp != "1.6"
        boot_payload = (
            '{"reason":"PowerUp","chargingStation":{"vendorName":"Constellation",'
            f'"model":"FleetSim","serialNumber":"{identity}"}}}}'
            if v2 else
            '{"chargePointVendor":"Constellation",'
            f'"chargePointModel":"FleetSim","chargePointSerialNumber":"{identity}"}}'
        )
        boot = await _call(ws, "b", f'[2,"b","BootNotification",{boot_payload}]', plan.timeout)
        if boot.get("status") != "Accepted":
            _note(shared, "boot_failed", f"BootNotification status {boot.get('status')!r}")
            return
        tx_id = 0
        tx_ref = f"bench-{plan.proc}-{n}-tx"
        if workload == "meter" and v2:
            await _call(
                ws,
                "s",
                f'[2,"s","TransactionEvent",{{"eventType":"Started","timestamp":"{_timestamp()}",'
                '"triggerReason":"Authorized","seqNo":0,'
                f'"transactionInfo":{{"transactionId":"{tx_ref}"}},'
                '"evse":{"id":1,"connectorId":1},'
                f'"idToken":{{"idToken":"BENCH{n}","type":"ISO14443"}},'
                '"meterValue":[{"timestamp":"' + _timestamp() + '","sampledValue":[{"value":0,'
                '"context":"Transaction.Begin","measurand":"Energy.Active.Import.Register",'
                '"unitOfMeasure":{"unit":"Wh"}}]}]}]',
                plan.timeout,
            )
        elif workload == "meter":
            start = await _call(
                ws,
                "s",
                f'[2,"s","StartTransaction",{{"connectorId":1,"idTag":"BENCH{n}",'
                f'"meterStart":0,"timestamp":"{_timestamp()}"}}]',
                plan.timeout,
            )
            tx_id = int(start["transactionId"])
        shared.counts["connected"] += 1
        await shared.start.wait()

        if workload == "heartbeat":

            def frame(uid: str, k: int) -> str:
                return f'[2,"{uid}","Heartbeat",{{}}]'

        elif v2:
            # TransactionEvent Updated, three sampled values; energy rises by 10 Wh per message.
            def frame(uid: str, k: int) -> str:
                power = 7000 + (k % 7) * 100
                return (
                    f'[2,"{uid}","TransactionEvent",{{"eventType":"Updated",'
                    f'"timestamp":"{_timestamp()}","triggerReason":"MeterValuePeriodic",'
                    f'"seqNo":{k},"transactionInfo":{{"transactionId":"{tx_ref}",'
                    '"chargingState":"Charging"},'
                    f'"meterValue":[{{"timestamp":"{_timestamp()}","sampledValue":['
                    f'{{"value":{10 * k},"measurand":"Energy.Active.Import.Register",'
                    '"context":"Sample.Periodic","unitOfMeasure":{"unit":"Wh"}},'
                    f'{{"value":{power},"measurand":"Power.Active.Import",'
                    '"context":"Sample.Periodic","unitOfMeasure":{"unit":"W"}},'
                    f'{{"value":{power / 230:.1f},"measurand":"Current.Import","phase":"L1",'
                    '"context":"Sample.Periodic","unitOfMeasure":{"unit":"A"}}]}]}]'
                )

        else:
            # Three sampled values per meter value; energy rises by 10 Wh per message.
            def frame(uid: str, k: int) -> str:
                power = 7000 + (k % 7) * 100
                return (
                    f'[2,"{uid}","MeterValues",{{"connectorId":1,"transactionId":{tx_id},'
                    f'"meterValue":[{{"timestamp":"{_timestamp()}","sampledValue":['
                    f'{{"value":"{10 * k}","measurand":"Energy.Active.Import.Register",'
                    '"unit":"Wh"},'
                    f'{{"value":"{power}","measurand":"Power.Active.Import","unit":"W"}},'
                    f'{{"value":"{power / 230:.1f}","measurand":"Current.Import",'
                    '"phase":"L1","unit":"A"}]}]}]'
                )

        clock = time.perf_counter
        lat = shared.latencies
        counts = shared.counts
        next_at = shared.begin + offset
        k = 0
        while True:
            if plan.mode == "open":
                delay = next_at - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.001 * plan.interval and next_at >= shared.measure_start:
                    counts["late"] += 1
                next_at += plan.interval
            t0 = clock()
            if t0 >= shared.measure_end:
                break
            k += 1
            uid = str(k)
            measured = t0 >= shared.measure_start
            if measured:
                counts["sent"] += 1
            try:
                await _call(ws, uid, frame(uid, k), plan.timeout)
            except ReplyError as exc:
                _note(shared, exc.kind, str(exc))
                continue
            if measured:
                lat.append(clock() - t0)
                counts["answered"] += 1
    except TimeoutError:
        _note(shared, "timeout", f"no reply within {plan.timeout}s")
    except websockets.ConnectionClosed as exc:
        _note(shared, "disconnect", str(exc)[:80])
    except ReplyError as exc:
        _note(shared, exc.kind, str(exc))
    finally:
        try:
            await asyncio.wait_for(ws.close(), 3)
        except (TimeoutError, OSError, websockets.WebSocketException):
            pass


async def run_process(plan: Plan, ctrl: mp.Queue, out: mp.Queue) -> None:
    """Connect this process's chargers at the ramp rate, report progress, run, report results."""
    shared = Shared()
    loop = asyncio.get_running_loop()
    tasks = []
    gap = 1.0 / plan.ramp if plan.ramp > 0 else 0.0
    t_start = time.perf_counter()
    for n in range(plan.count):
        # Open-loop start offsets interleave across processes so the whole fleet is spread evenly.
        gidx = n * plan.nprocs + plan.proc
        offset = plan.interval * gidx / plan.total if plan.mode == "open" else 0.0
        tasks.append(asyncio.create_task(charger(plan, shared, n, offset)))
        if gap:
            lag = t_start + (n + 1) * gap - time.perf_counter()
            if lag > 0:
                await asyncio.sleep(lag)
        if n % 50 == 49:
            out.put(("progress", plan.proc, shared.counts["connected"], _failed(shared)))
    # Report progress until every charger is up or has failed, then wait for the go signal.
    while shared.counts["connected"] + _failed(shared) < plan.count:
        out.put(("progress", plan.proc, shared.counts["connected"], _failed(shared)))
        await asyncio.sleep(0.25)
    out.put(("ready", plan.proc, shared.counts["connected"], _failed(shared)))
    # Thousands of connections make full collections slow; pausing the client for them would be
    # blamed on the server. Freezing what exists keeps later collections small.
    gc.collect()
    gc.freeze()
    go = await loop.run_in_executor(None, ctrl.get)
    # ``go`` carries wall-clock times; perf_counter is CLOCK_MONOTONIC, shared by all processes,
    # but translate anyway so nothing relies on that.
    skew = time.perf_counter() - time.time()
    shared.begin = go["begin"] + skew
    shared.measure_start = go["measure_start"] + skew
    shared.measure_end = go["measure_end"] + skew
    shared.start.set()
    lag = asyncio.create_task(_loop_lag(shared))
    cpu = asyncio.create_task(_cpu_window(shared))
    await asyncio.gather(*tasks, return_exceptions=True)
    lag.cancel()
    await cpu
    out.put(
        (
            "done",
            plan.proc,
            shared.counts,
            shared.latencies.tobytes(),
            shared.errors,
            shared.loop_lag.tobytes(),
            shared.cpu_s,
        )
    )


async def _cpu_window(shared: Shared) -> None:
    """This process's CPU seconds in the measurement window: printed so a reader can see the
    load client was not the bottleneck."""
    clock = time.perf_counter
    await asyncio.sleep(max(0.0, shared.measure_start - clock()))
    begin = time.process_time()
    await asyncio.sleep(max(0.0, shared.measure_end - clock()))
    shared.cpu_s = time.process_time() - begin


async def _loop_lag(shared: Shared) -> None:
    """Sample how late this client's event loop wakes up: a busy client inflates latencies."""
    clock = time.perf_counter
    while True:
        t = clock()
        await asyncio.sleep(0.01)
        if t >= shared.measure_start and t < shared.measure_end:
            shared.loop_lag.append(clock() - t - 0.01)


def _failed(shared: Shared) -> int:
    c = shared.counts
    return (
        c["connect_failed"]
        + c["boot_failed"]
        + c["timeout"]
        + c["disconnect"]
        + c["callerror"]
        + c["bad_reply"]
    )


def process_main(plan: Plan, ctrl: mp.Queue, out: mp.Queue) -> None:
    """Entry point of one client process."""
    _raise_nofile()
    try:
        asyncio.run(run_process(plan, ctrl, out))
    except Exception as exc:  # noqa: BLE001 - the parent must learn that a child died
        out.put(("crash", plan.proc, repr(exc)))


# --------------------------------------------------------------------------------------------
# The coordinating parent


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def run(args: argparse.Namespace) -> dict:
    """Run one benchmark as described by ``args``; return the result mapping."""
    _raise_nofile()
    log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if args.json else print
    nprocs = max(1, min(args.processes, args.chargers))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    ctrls = [ctx.Queue() for _ in range(nprocs)]
    rss_before = server_rss_mb(args.server_pid)
    with open("/proc/loadavg") as fh:
        loadavg = float(fh.read().split()[0])  # >0 before we start means someone else is busy
    procs = []
    for p in range(nprocs):
        count = args.chargers // nprocs + (1 if p < args.chargers % nprocs else 0)
        plan = Plan(
            url=args.url.rstrip("/"),
            proc=p,
            nprocs=nprocs,
            count=count,
            total=args.chargers,
            workload=args.workload,
            mode=args.mode,
            interval=args.interval,
            ramp=args.ramp / nprocs if args.ramp > 0 else 0.0,
            timeout=args.timeout,
            connect_timeout=args.connect_timeout,
            ocpp=args.ocpp,
            deflate=args.deflate,
        )
        pr = ctx.Process(target=process_main, args=(plan, ctrls[p], out), daemon=True)
        pr.start()
        procs.append(pr)

    log(
        f"fleet: {args.chargers} chargers -> {args.url} ({args.workload}, {args.mode}"
        + (f" every {args.interval:g}s" if args.mode == "open" else "")
        + f"), {nprocs} client process(es), ramp {args.ramp:g}/s"
    )
    progress = {p: (0, 0) for p in range(nprocs)}
    ready: set[int] = set()
    t_ramp = time.time()
    last_print = 0.0
    ramp_limit = (args.chargers / args.ramp if args.ramp > 0 else 0) + args.connect_timeout + 30
    while len(ready) < nprocs:
        try:
            msg = out.get(timeout=0.5)
        except queue.Empty:
            msg = None
        if msg and msg[0] in ("progress", "ready"):
            progress[msg[1]] = (msg[2], msg[3])
            if msg[0] == "ready":
                ready.add(msg[1])
        elif msg and msg[0] == "crash":
            raise SystemExit(f"client process {msg[1]} crashed: {msg[2]}")
        now = time.time()
        if now - last_print >= 1 or len(ready) == nprocs:
            conn = sum(c for c, _ in progress.values())
            fail = sum(f for _, f in progress.values())
            log(f"  connected {conn}/{args.chargers}  failed {fail}  ({now - t_ramp:.1f}s)")
            last_print = now
        if now - t_ramp > ramp_limit:
            raise SystemExit("ramp did not finish in time")
    ramp_s = time.time() - t_ramp

    # Everyone starts together a moment from now, so no process gets a head start.
    begin = time.time() + 0.5
    go = {
        "begin": begin,
        "measure_start": begin + args.warmup,
        "measure_end": begin + args.warmup + args.duration,
    }
    for q in ctrls:
        q.put(go)
    log(f"  warm-up {args.warmup:g}s, measuring {args.duration:g}s ...")
    time.sleep(max(0.0, go["measure_start"] - time.time()))
    cpu0, busy0 = server_cpu_s(args.server_pid), machine_busy_s()
    time.sleep(max(0.0, go["measure_end"] - time.time()))
    cpu1, busy1 = server_cpu_s(args.server_pid), machine_busy_s()
    rss_after = server_rss_mb(args.server_pid)  # sampled with the whole fleet still connected
    # Machine-wide CPU use during the window (all cores = 100 %): other tenants show up here.
    machine_pct = 100 * (busy1[0] - busy0[0]) / max(1e-9, busy1[1] - busy0[1])
    server_pct = (
        100 * (cpu1 - cpu0) / args.duration if cpu0 is not None and cpu1 is not None else None
    )

    counts = dict.fromkeys(COUNTERS, 0)
    latencies = array.array("d")
    loop_lag = array.array("d")
    client_cpu_s = 0.0
    errors: dict[str, int] = {}
    done = 0
    deadline = time.time() + args.timeout + 30
    while done < nprocs:
        try:
            msg = out.get(timeout=max(0.1, deadline - time.time()))
        except queue.Empty as exc:
            raise SystemExit("client processes did not finish") from exc
        if msg[0] == "done":
            done += 1
            for k, v in msg[2].items():
                counts[k] += v
            latencies.frombytes(msg[3])
            for k, v in msg[4].items():
                errors[k] = errors.get(k, 0) + v
            loop_lag.frombytes(msg[5])
            client_cpu_s += msg[6]
        elif msg[0] == "crash":
            raise SystemExit(f"client process {msg[1]} crashed: {msg[2]}")
    for pr in procs:
        pr.join(5)

    lat = sorted(latencies)
    lag = sorted(loop_lag)
    ms = [1000 * x for x in (percentile(lat, 50), percentile(lat, 90), percentile(lat, 99))]
    return {
        "url": args.url,
        "workload": args.workload,
        "mode": args.mode,
        "interval_s": args.interval if args.mode == "open" else None,
        "chargers": args.chargers,
        "processes": nprocs,
        "ramp_s": round(ramp_s, 2),
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        **counts,
        "errors": sum(
            counts[k] for k in ("connect_failed", "boot_failed", "callerror", "bad_reply")
        )
        + counts["timeout"]
        + counts["disconnect"],
        "msg_per_s": round(counts["answered"] / args.duration, 1),
        "p50_ms": round(ms[0], 2),
        "p90_ms": round(ms[1], 2),
        "p99_ms": round(ms[2], 2),
        "max_ms": round(1000 * lat[-1], 2) if lat else 0.0,
        "client_lag_p99_ms": round(1000 * percentile(lag, 99), 2),
        "client_lag_max_ms": round(1000 * lag[-1], 2) if lag else 0.0,
        "server_cpu_pct": round(server_pct, 1) if server_pct is not None else None,
        "machine_cpu_pct": round(machine_pct, 1),
        # Summed over client processes; near 100 % per process means the client limits the run.
        "client_cpu_pct": round(100 * client_cpu_s / args.duration, 1),
        "ocpp": args.ocpp,
        "deflate": args.deflate,
        "loadavg_before": loadavg,
        "server_rss_mb_before": round(rss_before, 1) if rss_before is not None else None,
        "server_rss_mb_after": round(rss_after, 1) if rss_after is not None else None,
        "error_samples": errors,
    }


def print_table(r: dict) -> None:
    """Human-readable summary of one run."""
    rows = [
        ("chargers connected", f"{r['connected']}/{r['chargers']}  (ramp {r['ramp_s']}s)"),
        (
            "workload",
            f"OCPP {r['ocpp']}{' + deflate' if r['deflate'] else ''}, "
            f"{r['workload']}, {r['mode']} loop"
            + (f", 1 msg / {r['interval_s']:g}s" if r["interval_s"] else ""),
        ),
        ("measured", f"{r['duration_s']:g}s after {r['warmup_s']:g}s warm-up"),
        ("messages sent/answered", f"{r['sent']}/{r['answered']}"),
        ("msg/s", f"{r['msg_per_s']:,.1f}"),
        (
            "latency p50/p90/p99/max",
            "{p50_ms:.2f} / {p90_ms:.2f} / {p99_ms:.2f} / {max_ms:.2f} ms".format(**r),
        ),
        (
            "errors",
            "{errors}  (connect {connect_failed}, boot {boot_failed}, callerror {callerror}, "
            "bad reply {bad_reply}, timeout {timeout}, disconnect {disconnect})".format(**r),
        ),
    ]
    if r["mode"] == "open":
        rows.append(("late sends", str(r["late"])))
    # How late the client's own event loop ran: if this is near the latency figures, the client
    # (not the server) is the bottleneck and --processes should change.
    rows.append(
        (
            "client loop lag p99/max",
            "{client_lag_p99_ms:.2f} / {client_lag_max_ms:.2f} ms".format(**r),
        )
    )
    rows.append(
        (
            "CPU during window",
            (
                f"server {r['server_cpu_pct']}% of one core, "
                if r["server_cpu_pct"] is not None
                else ""
            )
            + f"load client {r['client_cpu_pct']}% of one core"
            + f" ({r['processes']} process(es)), "
            + f"machine {r['machine_cpu_pct']}% of all cores"
            + f" (load avg before {r['loadavg_before']})",
        )
    )
    if r["server_rss_mb_before"] is not None:
        rows.append(
            (
                "server RSS before/after",
                "{server_rss_mb_before} / {server_rss_mb_after} MB".format(**r),
            )
        )
    width = max(len(k) for k, _ in rows)
    print("-" * (width + 40))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    for msg, n in list(r["error_samples"].items())[:10]:
        print(f"  ! {n} x {msg}")
    print("-" * (width + 40))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(
        description="OCPP fleet simulator (1.6J, 2.0.1, 2.1)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--url", default="ws://127.0.0.1:8888/ocpp", help="charger id is appended")
    p.add_argument("--chargers", type=int, default=200)
    p.add_argument("--workload", choices=("heartbeat", "meter", "mixed"), default="heartbeat",
                   help="mixed: 30 %% of the chargers in a transaction sending meter values, "
                        "70 %% Heartbeats")
    p.add_argument("--ocpp", choices=tuple(SUBPROTOCOLS), default="1.6",
                   help="the version the chargers speak")
    p.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    p.add_argument("--mode", choices=("closed", "open"), default="closed")
    p.add_argument("--interval", type=float, default=5.0, help="open loop: seconds between CALLs")
    p.add_argument("--duration", type=float, default=20.0, help="measurement window, seconds")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    p.add_argument("--processes", type=int, default=1, help="client processes")
    p.add_argument("--ramp", type=float, default=500.0, help="new connections/s (0: no limit)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply")
    p.add_argument("--connect-timeout", type=float, default=30.0)
    p.add_argument("--server-pid", type=int, default=None, help="report this process tree's RSS")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = p.parse_args(argv)
    if args.chargers < 1 or args.duration <= 0 or args.warmup < 0 or args.interval <= 0:
        p.error("--chargers, --duration and --interval must be positive, --warmup >= 0")
    if args.duration + args.warmup > 3600:
        p.error("runs are bounded to one hour")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the simulator; exit status 1 when any error was counted or nothing was answered."""
    args = parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 0 if result["errors"] == 0 and result["answered"] > 0 else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
