"""The per-message path without sockets: what our code costs per OCPP message.

Drives ChargerConnection._handle_frame for N simulated chargers in one gevent process with a real
SQLite database (group writer included), and times schema validation both ways. Prints msg/s,
CPU µs per message (all threads) and the writer's share. Run:

    .venv/bin/python bench/hotpath.py [--chargers 200] [--messages 50] [--profile]
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

HEARTBEAT = '[2,"1","Heartbeat",{}]'
METER = json.dumps([2, "2", "MeterValues", {
    "connectorId": 1, "transactionId": 0, "meterValue": [{
        "timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
            {"value": "100", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
            {"value": "16", "measurand": "Current.Import", "unit": "A", "phase": "L1"}]}]}])


class NullSocket:
    """Stands in for the websocket: the transport's own cost is measured by bench/fleet.py."""

    def send(self, text: str) -> None:
        pass


def validation_cost() -> None:
    from ocpp.messages import get_validator

    from app.ocpp import validation

    payload = json.loads(METER)[3]
    reference = get_validator(2, "MeterValues", "1.6")
    for name, check in (("ocpp get_validator (jsonschema Draft4)",
                         lambda: reference.validate(payload)),
                        ("validation.check (fastjsonschema, same schema)",
                         lambda: validation.check("1.6", 2, "MeterValues", payload))):
        check()
        n, start = 2000, time.perf_counter()
        for _ in range(n):
            check()
        print(f"  {name:48s} {(time.perf_counter() - start) / n * 1e6:7.1f} µs per MeterValues")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50, help="per charger and workload")
    parser.add_argument("--profile", action="store_true", help="cProfile the meter run")
    args = parser.parse_args()
    os.environ["CONSTELLATION_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="hotpath-")

    from app import create_app, runtime
    from app.extensions import db
    from app.models import Charger, Transaction
    from app.ocpp import v16
    from app.ocpp.context import ChargerContext
    from app.ocpp.session import OcppSession
    from app.ocpp.versions import V16
    from app.storage import writer as writer_module
    from app.transport.connection import ChargerConnection

    app = create_app()
    with app.app_context():
        db.create_all()
        ids = []
        for i in range(args.chargers):
            charger = Charger(identity=f"hot-{i}")
            db.session.add(charger)
            db.session.flush()
            ids.append(charger.id)
        # Each charger meters its own running transaction (id = charger id).
        for cid in ids:
            db.session.add(Transaction(id=cid, charger_id=cid, connector_id=1, meter_start=0))
        db.session.commit()
    writer = runtime.writer(app)
    connections = [
        ChargerConnection(NullSocket(), ChargerContext(f"hot-{i}", cid, writer, 300, "reject"),
                          OcppSession(V16, handled_actions=frozenset(v16.HANDLERS)),
                          v16.HANDLERS, log_messages=True, ping_interval=0, max_missed_pongs=0)
        for i, cid in enumerate(ids)
    ]
    writer_cpu = [0.0]
    batch = writer_module.GroupWriter._commit_batch

    def timed_batch(self, *a):
        start = time.thread_time()
        try:
            return batch(self, *a)
        finally:
            writer_cpu[0] += time.thread_time() - start

    writer_module.GroupWriter._commit_batch = timed_batch

    def run(frame: str) -> None:
        def charger(connection: ChargerConnection) -> None:
            own = frame.replace('"transactionId": 0',
                                f'"transactionId": {connection.ctx.charger_id}')
            for _ in range(args.messages):
                connection._handle_frame(own)
                gevent.sleep(0)

        writer_cpu[0] = 0.0
        batches = writer.batches
        wall, cpu = time.perf_counter(), time.process_time()
        gevent.joinall([gevent.spawn(charger, c) for c in connections])
        writer.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = len(connections) * args.messages
        print(f"  {json.loads(frame)[2]:12s} {n / wall:8.0f} msg/s  {cpu / n * 1e6:6.0f} µs CPU/msg"
              f"  (writer {writer_cpu[0] / n * 1e6:4.0f} µs/msg, {writer.batches - batches} "
              f"group commits for {n} messages)")

    print(f"per-message path, {args.chargers} chargers x {args.messages} messages, "
          f"SQLite synchronous={app.config['SQLITE_SYNCHRONOUS']}, message log on")
    run(HEARTBEAT)
    run(METER)
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        run(METER)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    print("schema validation")
    validation_cost()


if __name__ == "__main__":
    main()
