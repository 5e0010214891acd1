"""Group commit: many chargers' writes share one transaction and one commit.

Handlers hand the writer a unit of work (a function of a SQLAlchemy Core connection) and wait;
the writer runs every unit queued since its last commit in one transaction, commits once, then
wakes them all with their results. A handler therefore replies to its charger only after its data
is committed, while the commit (an fsync with SQLite's synchronous=FULL) is paid once per batch.

Some writes need no waiting and ride along with the next commit:
- rows appended with ``append`` (the message log),
- last-seen times with ``touch``: only the newest per charger is written, at most once per
  ``flush_interval``, and
- units queued with ``submit`` (the connected mark of a new connection): in order with every
  other unit, so a later ``run`` by the same caller returns only once they are committed.

Under gevent, ``threading`` is cooperative, so the writer is a greenlet and waiting is cheap.

``backlog()`` is how many units are queued or in the commit under way: admission control
(``transport/admission.py``) reads it to refuse new handshakes while the writer is behind.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.engine import Connection, Engine

from .bulk import insert_rows

log = logging.getLogger(__name__)


class _Unit:
    __slots__ = ("fn", "args", "rows", "done", "result", "error", "then")

    def __init__(self, fn: Callable[..., Any] | None, args: tuple,
                 rows: dict[Table, list[dict]] | None = None) -> None:
        self.fn = fn
        self.args = args
        self.rows = rows  # plain inserts, by table, when fn is None
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.then: Callable[[], None] | None = None  # ``submit``: called once committed


class GroupWriter:
    def __init__(self, engine: Engine, last_seen_table: Table, *, flush_interval: float = 1.0,
                 max_batch: int = 1000) -> None:
        self._engine = engine
        self._last_seen_table = last_seen_table
        self._flush_interval = flush_interval
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._units: list[_Unit] = []
        # Appended rows need no lock: deque.append and popleft are atomic, from any thread.
        self._appended: deque[tuple[Table, dict]] = deque()
        self._last_seen: dict[int, datetime] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._in_commit = 0  # units of the batch being committed now
        self.batches = 0
        self.units_committed = 0
        t = last_seen_table
        self._touch_statement = (update(t).where(t.c.id == bindparam("cid"))
                                 .values(last_heartbeat=bindparam("ts")))

    # API for handlers -----------------------------------------------------------------------

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(conn, *args)`` in the next group transaction; return once it is committed."""
        return self._submit(_Unit(fn, args))

    def submit(self, fn: Callable[..., Any], *args: Any,
               then: Callable[[], None] | None = None) -> None:
        """Run ``fn(conn, *args)`` in the next group transaction; nobody waits for it.

        Units run in the order they were queued: a later ``run`` of the same caller returns
        only once this one is committed too (a failure is logged, not raised). ``then`` is
        called in the writer once the unit is committed; it must not wait on anything.
        """
        unit = _Unit(fn, args)
        unit.then = then
        with self._lock:
            self._units.append(unit)
        self._ensure_started()
        self._wake.set()

    def backlog(self) -> int:
        """Units queued or being committed: how far the writer is behind (no lock: a read)."""
        return len(self._units) + self._in_commit

    def insert(self, table: Table, rows: list[dict]) -> None:
        """Insert ``rows`` in the next group transaction; return once they are committed.

        Cheaper than ``run`` for plain inserts: every unit's rows for a table go into the same
        few multi-row INSERTs (``bulk.insert_rows``).
        """
        self._submit(_Unit(None, (), {table: rows}))

    def insert_many(self, rows: dict[Table, list[dict]]) -> None:
        """``insert`` into several tables with one wait (in the order given: a row may refer
        to one of an earlier table)."""
        self._submit(_Unit(None, (), rows))

    def _submit(self, unit: _Unit) -> Any:
        with self._lock:
            self._units.append(unit)
        self._ensure_started()
        self._wake.set()
        unit.done.wait()
        if unit.error is not None:
            raise unit.error
        return unit.result

    def append(self, table: Table, row: dict) -> None:
        """Insert ``row`` with the next commit; nobody waits for it."""
        self._appended.append((table, row))
        if self._thread is None:
            self._ensure_started()

    def touch(self, charger_id: int, when: datetime) -> None:
        """Record that the charger was seen at ``when``; written with a later commit."""
        self._last_seen[charger_id] = when
        if self._thread is None:
            self._ensure_started()

    def flush(self) -> None:
        """Commit everything pending now (used at shutdown and by tests)."""
        self.run(lambda conn: None)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    # The writer loop ------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="group-writer",
                                                    daemon=True)
                    self._thread.start()

    def _loop(self) -> None:
        while not self._stopping:
            self._wake.wait(self._flush_interval)
            self._wake.clear()
            try:
                self._drain(flush_last_seen=True)
            except Exception:  # noqa: BLE001 - the writer must survive anything
                log.exception("group writer: unexpected failure")

    def _drain(self, flush_last_seen: bool) -> None:
        while True:
            with self._lock:
                units = self._units[: self._max_batch]
                del self._units[: self._max_batch]
            rows = self._take_appended()
            seen: dict[int, datetime] = {}
            if flush_last_seen and self._last_seen:
                seen, self._last_seen = self._last_seen, {}
            if not units and not rows and not seen:
                return
            self._commit(units, rows, seen)
            flush_last_seen = False
            with self._lock:
                if not self._units:
                    return

    def _take_appended(self) -> dict[Table, list[dict]]:
        rows: dict[Table, list[dict]] = defaultdict(list)
        appended = self._appended
        for _ in range(len(appended)):
            table, row = appended.popleft()
            rows[table].append(row)
        return rows

    def _commit(self, units: list[_Unit], rows: dict[Table, list[dict]],
                seen: dict[int, datetime]) -> None:
        # The database work runs off the event loop when gevent is in charge: the commit's fsync
        # then no longer stops every charger's socket while it waits for the disk.
        self._in_commit = len(units)
        try:
            _off_loop(self._commit_batch, units, rows, seen)
        finally:
            self._in_commit = 0
        for unit in units:
            unit.done.set()
            if unit.then is not None and unit.error is None:
                try:
                    unit.then()
                except Exception:  # noqa: BLE001 - a callback must not stop the writer
                    log.exception("group writer: callback after commit failed")

    def _commit_batch(self, units: list[_Unit], rows: dict[Table, list[dict]],
                      seen: dict[int, datetime]) -> None:
        try:
            with self._engine.begin() as conn:
                inserts: dict[Table, list[dict]] = defaultdict(list)
                for unit in units:
                    if unit.fn is not None:
                        unit.result = unit.fn(conn, *unit.args)
                    else:
                        for table, batch in unit.rows.items():
                            inserts[table].extend(batch)
                for table, batch in inserts.items():
                    insert_rows(conn, table, batch)
                self._write_background(conn, rows, seen)
        except Exception as exc:  # noqa: BLE001 - isolate the failing unit below
            if len(units) > 1 or rows or seen:
                log.warning("group commit of %d units failed; retrying one by one", len(units))
                self._commit_one_by_one(units, rows, seen)
            else:
                for unit in units:
                    unit.error = exc
                    log.exception("unit of work failed")
        else:
            self.batches += 1
            self.units_committed += len(units)

    def _commit_one_by_one(self, units: list[_Unit], rows: dict[Table, list[dict]],
                           seen: dict[int, datetime]) -> None:
        for unit in units:
            unit.result, unit.error = None, None
            try:
                with self._engine.begin() as conn:
                    if unit.fn is not None:
                        unit.result = unit.fn(conn, *unit.args)
                    else:
                        for table, batch in unit.rows.items():
                            insert_rows(conn, table, batch)
            except Exception as exc:  # noqa: BLE001
                log.exception("unit of work %s failed", getattr(unit.fn, "__name__", unit.fn))
                unit.error = exc
        self._commit_background(rows, seen)

    def _commit_background(self, rows: dict[Table, list[dict]],
                           seen: dict[int, datetime]) -> None:
        """Write background rows each table on its own, isolating the rows that fail.

        Nobody waits for these rows, but they are other chargers' message logs and last-seen
        times: a row one charger made unstorable must not take the rest of the batch with it.
        """
        if seen:
            try:
                with self._engine.begin() as conn:
                    self._write_background(conn, {}, seen)
            except Exception:  # noqa: BLE001
                log.exception("dropping %d last-seen times that could not be written", len(seen))
        for table, batch in rows.items():
            self._insert_isolated(table, batch)

    def _insert_isolated(self, table: Table, batch: list[dict]) -> None:
        # Halve a failing batch until the bad rows stand alone: one bad row costs log2(n)
        # extra commits, never its neighbours' rows.
        try:
            with self._engine.begin() as conn:
                insert_rows(conn, table, batch)
        except Exception as exc:  # noqa: BLE001
            if len(batch) == 1:
                log.warning("dropping a %s row that could not be written: %s", table.name, exc)
                return
            middle = len(batch) // 2
            self._insert_isolated(table, batch[:middle])
            self._insert_isolated(table, batch[middle:])

    def _write_background(self, conn: Connection, rows: dict[Table, list[dict]],
                          seen: dict[int, datetime]) -> None:
        for table, batch in rows.items():
            insert_rows(conn, table, batch)
        if seen:
            conn.execute(self._touch_statement,
                         [{"cid": cid, "ts": ts} for cid, ts in seen.items()])


def _off_loop(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` in gevent's native thread pool when gevent patched threading, else inline."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return fn(*args)
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(fn, args)
