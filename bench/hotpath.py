"""The per-message path without sockets: what our code costs per OCPP message.

Drives ChargerConnection._handle_frame for N simulated chargers in one gevent process with a real
SQLite database (group writer included), and times schema validation both ways. Prints msg/s,
CPU µs per message (all threads) and the writer's share, for 1.6 (Heartbeat, MeterValues) and
2.0.1 (Heartbeat, TransactionEvent Updated with the same three samples) side by side. Run:

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


# 2.0.1: the same three samples in a TransactionEvent(Updated); seqNo is filled in per message.
TX_UPDATED = json.dumps([2, "3", "TransactionEvent", {
    "eventType": "Updated", "timestamp": "2026-01-01T00:00:00Z",
    "triggerReason": "MeterValuePeriodic", "seqNo": 0,
    "transactionInfo": {"transactionId": "hot-tx", "chargingState": "Charging"},
    "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [
        {"value": 100, "measurand": "Energy.Active.Import.Register",
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 7000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
        {"value": 16, "measurand": "Current.Import", "phase": "L1",
         "unitOfMeasure": {"unit": "A"}}]}]}])
TX_STARTED = json.dumps([2, "s", "TransactionEvent", {
    "eventType": "Started", "timestamp": "2026-01-01T00:00:00Z", "triggerReason": "CablePluggedIn",
    "seqNo": 0, "transactionInfo": {"transactionId": "hot-tx"},
    "evse": {"id": 1, "connectorId": 1}}])


class NullSocket:
    """Stands in for the websocket: the transport's own cost is measured by bench/fleet.py."""

    def send(self, text: str, timeout: float | None = None) -> None:
        pass


def validation_cost() -> None:
    from ocpp.messages import get_validator

    from app.ocpp import validation

    for version, frame in (("1.6", METER), ("2.0.1", TX_UPDATED)):
        action, payload = json.loads(frame)[2:4]
        reference = get_validator(2, action, version)
        for name, check in (("ocpp get_validator (jsonschema Draft4)",
                             lambda r=reference, p=payload: r.validate(p)),
                            ("validation.check (fastjsonschema, same schema)",
                             lambda v=version, a=action, p=payload: validation.check(v, 2, a, p))):
            check()
            n, start = 2000, time.perf_counter()
            for _ in range(n):
                check()
            print(f"  {version} {name:46s} {(time.perf_counter() - start) / n * 1e6:7.1f} µs "
                  f"per {action}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chargers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50, help="per charger and workload")
    parser.add_argument("--profile", action="store_true", help="cProfile a TransactionEvent run")
    args = parser.parse_args()
    os.environ["CONSTELLATION_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="hotpath-")

    from app import create_app, runtime
    from app.extensions import db
    from app.models import Charger, Transaction
    from app.ocpp import v16, v201
    from app.ocpp.context import ChargerContext
    from app.ocpp.session import OcppSession
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
    def connections_of(version):
        return [
            ChargerConnection(NullSocket(), ChargerContext(f"hot-{i}", cid, writer, 300, "reject",
                                                           events=runtime.events(app)),
                              OcppSession(version, handled_actions=frozenset(version.handlers)),
                              version.handlers, log_messages=True, ping_interval=0,
                              max_missed_pongs=0)
            for i, cid in enumerate(ids)
        ]

    connections = connections_of(v16.VERSION)
    writer_cpu = [0.0]
    batch = writer_module.GroupWriter._commit_batch

    def timed_batch(self, *a):
        start = time.thread_time()
        try:
            return batch(self, *a)
        finally:
            writer_cpu[0] += time.thread_time() - start

    writer_module.GroupWriter._commit_batch = timed_batch

    def run(frame: str, label: str = "") -> None:
        def charger(connection: ChargerConnection) -> None:
            own = frame.replace('"transactionId": 0',
                                f'"transactionId": {connection.ctx.charger_id}')
            for k in range(args.messages):
                # 2.x events of one transaction are numbered: each a new one, not a retry.
                connection._handle_frame(own.replace('"seqNo": 0', f'"seqNo": {k + 1}'))
                gevent.sleep(0)

        writer_cpu[0] = 0.0
        batches = writer.batches
        wall, cpu = time.perf_counter(), time.process_time()
        gevent.joinall([gevent.spawn(charger, c) for c in connections])
        writer.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = len(connections) * args.messages
        name = label or json.loads(frame)[2]
        print(f"  {name:22s} {n / wall:8.0f} msg/s  {cpu / n * 1e6:6.0f} µs CPU/msg"
              f"  (writer {writer_cpu[0] / n * 1e6:4.0f} µs/msg, {writer.batches - batches} "
              f"group commits for {n} messages)")

    print(f"per-message path, {args.chargers} chargers x {args.messages} messages, "
          f"SQLite synchronous={app.config['SQLITE_SYNCHRONOUS']}, message log on")
    run(HEARTBEAT, "1.6 Heartbeat")
    run(METER, "1.6 MeterValues")
    connections = connections_of(v201.VERSION)
    for connection in connections:  # each charger's transaction, started once
        connection._handle_frame(TX_STARTED)
    writer.flush()
    run(HEARTBEAT, "2.0.1 Heartbeat")
    run(TX_UPDATED, "2.0.1 TransactionEvent")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        run(TX_UPDATED, "2.0.1 TransactionEvent (profiled)")
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
    print("schema validation")
    validation_cost()


if __name__ == "__main__":
    main()
