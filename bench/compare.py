"""Run the benchmark scenarios against the reference example CSMS and Constellation side by side.

For every (server, scenario) pair a fresh server is started on 127.0.0.1 (Constellation: gunicorn
with a new temporary instance directory after ``flask db upgrade``; the example:
``bench/example_csms.py``), ``bench/fleet.py`` drives it, and the server is stopped again. Results
go to ``bench/results/<timestamp>/*.json`` and a side-by-side table is printed (``--markdown`` for
docs/performance.md). Every run is bounded: warm-up plus measurement, a few seconds per server.

Usage (bench/run_all.sh raises the descriptor limit first)::

    bench/run_all.sh                      # full: 4 scenarios x 2 servers, about 6 minutes
    bench/run_all.sh --quick              # smoke run for CI, under 30 s, exits 1 on any error
    bench/run_all.sh --servers ours --only hb-closed,meter-closed --profile
    bench/run_all.sh --previous b2dfb07 --only meter-closed,tx-closed-201  # against a commit
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable


@dataclass(frozen=True)
class Scenario:
    """One fleet.py run."""

    name: str
    title: str
    args: tuple[str, ...]


FULL = (
    Scenario(
        "hb-closed",
        "Heartbeat, closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "heartbeat", "--mode", "closed",
         "--warmup", "5", "--duration", "20"),
    ),
    Scenario(
        "meter-closed",
        "MeterValues (3 samples), closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "meter", "--mode", "closed",
         "--warmup", "5", "--duration", "20"),
    ),
    # OCPP 2.0.1 beside 1.6 in the same run: Heartbeats, TransactionEvent(Updated, 3 samples)
    # against 1.6 MeterValues, and what permessage-deflate costs.
    Scenario(
        "hb-closed-201",
        "2.0.1 Heartbeat, closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "heartbeat", "--mode", "closed", "--ocpp", "2.0.1",
         "--warmup", "5", "--duration", "20"),
    ),
    Scenario(
        "tx-closed-201",
        "2.0.1 TransactionEvent Updated (3 samples), closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "meter", "--mode", "closed", "--ocpp", "2.0.1",
         "--warmup", "5", "--duration", "20"),
    ),
    Scenario(
        "hb-closed-201-deflate",
        "2.0.1 Heartbeat + permessage-deflate, closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "heartbeat", "--mode", "closed", "--ocpp", "2.0.1",
         "--warmup", "5", "--duration", "20", "--deflate"),  # flags last: args are read in pairs
    ),
    Scenario(
        "tx-closed-201-deflate",
        "2.0.1 TransactionEvent + permessage-deflate, closed loop, 200 chargers",
        ("--chargers", "200", "--workload", "meter", "--mode", "closed", "--ocpp", "2.0.1",
         "--warmup", "5", "--duration", "20", "--deflate"),  # flags last: args are read in pairs
    ),
    Scenario(
        "hb-open-5000",
        "Heartbeat, open loop, 5,000 chargers, 1 msg / 5 s",
        ("--chargers", "5000", "--workload", "heartbeat", "--mode", "open", "--interval", "5",
         "--warmup", "5", "--duration", "20", "--ramp", "500", "--processes", "2"),
    ),
    Scenario(
        "meter-open-5000",
        "MeterValues, open loop, 5,000 chargers, 1 msg / 5 s",
        ("--chargers", "5000", "--workload", "meter", "--mode", "open", "--interval", "5",
         "--warmup", "5", "--duration", "20", "--ramp", "500", "--processes", "2"),
    ),
)  # fmt: skip

# Chosen by name with --only, never in the default run: they need settings of their own.
EXTRA = (
    Scenario(
        "mixed-open-20000",
        "20,000 chargers, 1 msg / 10 s (70 % Heartbeat, 30 % MeterValues in a transaction)",
        ("--chargers", "20000", "--workload", "mixed", "--mode", "open", "--interval", "10",
         "--warmup", "10", "--duration", "30", "--ramp", "500", "--processes", "4",
         "--connect-timeout", "60"),
    ),
)  # fmt: skip

QUICK = (
    Scenario(
        "hb-closed",
        "Heartbeat, closed loop, 20 chargers",
        ("--chargers", "20", "--workload", "heartbeat", "--mode", "closed",
         "--warmup", "0.5", "--duration", "2"),
    ),
    Scenario(
        "meter-open",
        "MeterValues, open loop, 100 chargers, 2 msg / s",
        ("--chargers", "100", "--workload", "meter", "--mode", "open", "--interval", "0.5",
         "--warmup", "0.5", "--duration", "2", "--ramp", "0"),
    ),
)  # fmt: skip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PREENROL = """
import json, sys
from wsgi import app
from app.extensions import db
from app.models import Charger
with app.app_context():
    db.session.add_all(Charger(identity=i, registration_status="accepted", auto_enrolled=True)
                       for i in json.load(sys.stdin))
    db.session.commit()
"""


def fleet_identities(args: tuple[str, ...]) -> list[str]:
    """The identities fleet.py will use for these arguments (bench-<process>-<n>)."""
    opts = dict(zip(args[::2], args[1::2], strict=False))
    n, procs = int(opts.get("--chargers", "200")), int(opts.get("--processes", "1"))
    procs = max(1, min(procs, n))
    return [f"bench-{p}-{i}" for p in range(procs) for i in range(n // procs + (p < n % procs))]


class Server:
    """A CSMS under test, started in its own session so stopping it stops its workers too."""

    def __init__(
        self, kind: str, port: int, log: Path, env: dict[str, str], enrol: list[str] = (),
        root: Path = ROOT,
    ) -> None:
        self.kind, self.port, self.log = kind, port, log
        self.instance: str | None = None
        venv_bin = Path(PY).parent
        environ = dict(os.environ)
        if kind in ("ours", "previous"):
            self.instance = tempfile.mkdtemp(prefix="bench-inst-")
            environ.update(
                CONSTELLATION_INSTANCE_DIR=self.instance,
                OCPP_UNKNOWN_CHARGERS="accept",  # the fleet's chargers enrol themselves
                OCPP_UNKNOWN_ID_TAGS="accept",
                LOG_LEVEL="WARNING",
            )
            environ.update(env)
            subprocess.run(
                [str(venv_bin / "flask"), "--app", "wsgi", "db", "upgrade"],
                cwd=root, env=environ, check=True, capture_output=True,
            )  # fmt: skip
            if enrol:
                # First contact enrols a charger with its own commit in the handshake, which is
                # slow (see docs/performance.md); steady-state runs start from a known fleet.
                subprocess.run([PY, "-c", PREENROL], cwd=root, env=environ, check=True,
                               input=json.dumps(enrol), text=True, capture_output=True)  # fmt: skip
            cmd = [str(venv_bin / "gunicorn"), "-c", "gunicorn.conf.py",
                   "--bind", f"127.0.0.1:{port}", "wsgi:app"]  # fmt: skip
        else:
            environ.update(env)
            cmd = [PY, str(BENCH / "example_csms.py"), "--port", str(port)]
            if env.get("EXAMPLE_SYNC_VALIDATION"):
                cmd.append("--sync-validation")
        self.cmd = cmd
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=root, env=environ, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._wait_ready()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def _wait_ready(self, limit: float = 30.0) -> None:
        """Wait until a probe charger's BootNotification is answered."""
        from websockets.sync.client import connect

        deadline = time.time() + limit
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.kind} server exited early; see {self.log}")
            try:
                with connect(f"{self.url}/bench-probe", subprotocols=["ocpp1.6"],
                             open_timeout=2, compression=None) as ws:  # fmt: skip
                    ws.send('[2,"p","BootNotification",{"chargePointVendor":"bench",'
                            '"chargePointModel":"probe"}]')  # fmt: skip
                    if json.loads(ws.recv(timeout=5))[0] == 3:
                        return
            except (OSError, TimeoutError, ValueError, Exception):  # noqa: BLE001 - retry any
                pass
            if time.time() > deadline:
                self.stop()
                raise SystemExit(f"{self.kind} server did not answer in {limit}s; see {self.log}")
            time.sleep(0.3)

    def stop(self) -> None:
        """SIGTERM the server (gunicorn's master stops its worker), SIGKILL after 15 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group is the one we created
                self.proc.wait()
        self._log.close()
        if self.instance:
            shutil.rmtree(self.instance, ignore_errors=True)


def run_scenario(
    kind: str, sc: Scenario, outdir: Path, env: dict[str, str], profile: bool, preenrol: bool,
    roots: dict[str, Path],
) -> dict:
    """Fresh server, one fleet run, server stopped; returns fleet.py's JSON result."""
    enrol = fleet_identities(sc.args) if preenrol else []
    server = Server(kind, free_port(), outdir / f"{kind}-{sc.name}.server.log", env, enrol,
                    roots.get(kind, ROOT))
    spy = None
    try:
        cmd = [PY, str(BENCH / "fleet.py"), "--url", server.url, "--json",
               "--server-pid", str(server.proc.pid), *sc.args]  # fmt: skip
        print(f"\n== {kind}: {sc.title}\n   {' '.join(cmd[1:])}", flush=True)
        if profile and kind == "ours" and "closed" in sc.name:
            spy = start_profiler(server.proc.pid, sc, outdir)
        done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=900)
        if not done.stdout.strip():
            raise SystemExit(f"fleet.py printed no result for {kind} {sc.name}")
        result = json.loads(done.stdout)
    finally:
        if spy is not None:
            spy.wait(timeout=120)
        server.stop()
    result.update(server=kind, scenario=sc.name, title=sc.title, preenrolled=bool(enrol),
                  server_cmd=" ".join(server.cmd))  # fmt: skip
    (outdir / f"{kind}-{sc.name}.json").write_text(json.dumps(result, indent=2))
    brief = {k: result[k] for k in ("connected", "msg_per_s", "p50_ms", "p99_ms", "errors")}
    print(f"   -> {brief}", flush=True)
    return result


def start_profiler(pid: int, sc: Scenario, outdir: Path) -> subprocess.Popen:
    """py-spy samples the gevent worker (the master's child) for the measurement window."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    target = int(children[0]) if children else pid
    opts = dict(zip(sc.args[::2], sc.args[1::2], strict=False))
    delay = float(opts.get("--warmup", "5")) + 2  # ramp of 200 takes under a second
    duration = max(1, int(float(opts.get("--duration", "20"))) - 2)
    cmd = (f"sleep {delay}; exec {spy} record -p {target} -d {duration} -r 250 -f raw --gil "
           f"-o {outdir}/ours-{sc.name}.pyspy.txt")  # fmt: skip
    return subprocess.Popen(["sh", "-c", cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


ROWS = (
    ("connected", "chargers connected", "{connected}/{chargers}"),
    ("msg_per_s", "answered msg/s", "{msg_per_s:,.0f}"),
    ("p50_ms", "p50 ms", "{p50_ms:.2f}"),
    ("p90_ms", "p90 ms", "{p90_ms:.2f}"),
    ("p99_ms", "p99 ms", "{p99_ms:.2f}"),
    ("max_ms", "max ms", "{max_ms:.1f}"),
    ("errors", "errors", "{errors}"),
    ("server_cpu_pct", "server CPU % of a core", "{server_cpu_pct}"),
    ("client_lag_p99_ms", "client loop lag p99 ms", "{client_lag_p99_ms:.2f}"),
    ("client_cpu_pct", "load client CPU % of a core", "{client_cpu_pct}"),
    ("rss", "server RSS MB before/after", "{server_rss_mb_before} / {server_rss_mb_after}"),
)
NAMES = {"example": "ocpp example (re-impl.)", "ours": "Constellation"}


def table(results: dict[tuple[str, str], dict], kinds: list[str], scenarios, markdown: bool) -> str:
    """Side-by-side text (or Markdown) table, one block per scenario."""
    lines = []
    for sc in scenarios:
        cols = [k for k in kinds if (k, sc.name) in results]
        if not cols:
            continue
        header = [sc.title, *(NAMES[k] for k in cols)]
        body = [[label, *(fmt.format(**results[(k, sc.name)]) for k in cols)]
                for _, label, fmt in ROWS]  # fmt: skip
        if markdown:
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(row) + " |" for row in body]
        else:
            w = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
            lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(header)))
            lines.append("  ".join("-" * x for x in w))
            lines += ["  ".join(c.ljust(w[i]) for i, c in enumerate(r)) for r in body]
        lines.append("")
    return "\n".join(lines)


def previous_checkout(ref: str) -> Path:
    """A detached worktree of ``ref`` beside this checkout's venv, to run as "previous"."""
    where = Path(tempfile.mkdtemp(prefix="bench-previous-")) / "src"
    subprocess.run(["git", "worktree", "add", "--detach", str(where), ref], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    (where / ".venv").symlink_to(Path(PY).parent.parent)
    return where


def main(argv: list[str] | None = None) -> int:
    """Run the chosen scenarios on the chosen servers; exit 1 if any run counted an error."""
    p = argparse.ArgumentParser(description="Side-by-side OCPP benchmark")
    p.add_argument("--servers", default="example,ours", help="comma list: example, ours")
    p.add_argument("--only", default="", help="comma list of scenario names")
    p.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    p.add_argument("--profile", action="store_true", help="py-spy the closed-loop runs of ours")
    p.add_argument("--no-preenrol", action="store_true",
                   help="ours enrols the fleet on first contact, not beforehand")  # fmt: skip
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="server environment, e.g. SQLITE_SYNCHRONOUS=NORMAL")  # fmt: skip
    p.add_argument("--out", default="", help="results directory (default bench/results/<time>)")
    p.add_argument("--previous", default="", metavar="REF",
                   help="also run Constellation as of this git commit, beside the current one")
    args = p.parse_args(argv)
    kinds = [k for k in args.servers.split(",") if k]
    if not set(kinds) <= {"example", "ours"}:
        p.error("--servers takes example and/or ours")
    roots: dict[str, Path] = {}
    if args.previous:
        roots["previous"] = previous_checkout(args.previous)
        NAMES["previous"] = f"Constellation {args.previous}"
        kinds.insert(kinds.index("ours") if "ours" in kinds else len(kinds), "previous")
    scenarios = QUICK if args.quick else FULL
    if args.only:
        wanted = set(args.only.split(","))
        pool = scenarios if args.quick else FULL + EXTRA
        scenarios = tuple(s for s in pool if s.name in wanted)
        if not scenarios:
            p.error(f"--only matches none of {[s.name for s in (QUICK if args.quick else FULL)]}")
    env = dict(e.split("=", 1) for e in args.env)
    outdir = Path(args.out or BENCH / "results" / time.strftime("%Y%m%d-%H%M%S"))
    outdir.mkdir(parents=True, exist_ok=True)

    results: dict[tuple[str, str], dict] = {}
    t0 = time.time()
    try:
        for sc in scenarios:
            for kind in kinds:
                results[(kind, sc.name)] = run_scenario(
                    kind, sc, outdir, env, args.profile,
                    kind != "example" and not args.no_preenrol, roots,
                )
    finally:
        if "previous" in roots:
            subprocess.run(["git", "worktree", "remove", "--force", str(roots["previous"])],
                           cwd=ROOT, capture_output=True)  # fmt: skip
    text = table(results, kinds, scenarios, args.markdown)
    (outdir / ("table.md" if args.markdown else "table.txt")).write_text(text)
    print(f"\n{text}\n(results in {outdir}, {time.time() - t0:.0f}s)")
    return 1 if any(r["errors"] or not r["answered"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
