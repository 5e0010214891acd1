"""``flask rfid run [--simulated] [--file F]``: the reader service; ``flask rfid scan UID``:
present a card to the running service (app/hardware/rfid.py says how they talk)."""
from __future__ import annotations

import logging
import os
import signal
import time

import click
from flask import Blueprint, current_app

from .hardware.rfid import (
    Debouncer,
    ReaderUnavailable,
    ServiceSocket,
    SimulatedReader,
    normalise,
    send_scan,
)

bp = Blueprint("rfid_cli", __name__, cli_group=None)
log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


@bp.cli.group("rfid")
def rfid() -> None:
    """The RFID reader service and simulated scans."""


@rfid.command("run")
@click.option("--simulated", is_flag=True,
              help="No hardware: UIDs come from 'flask rfid scan' (and --file).")
@click.option("--file", "uid_file", type=click.Path(exists=True, dir_okay=False),
              help="With --simulated: scan these UIDs first (one a line).")
def run(simulated: bool, uid_file: str | None) -> None:
    """Run the reader service: each debounced scan goes through the scan flow."""
    from .services import node_features
    from .services.rfid import handle_scan

    app = current_app._get_current_object()
    if not simulated:
        raise click.ClickException("the MFRC522 backend is not part of this version; run "
                                   "with --simulated (docs/hardware.md)")
    if not node_features.is_enabled(app.config, "rfid"):
        click.echo("note: the rfid feature is off for this node; scans are still recorded",
                   err=True)
    status = {"backend": "simulated", "pid": os.getpid(),
              "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        sock = ServiceSocket(app.config["RFID_SOCKET"], status)
    except (ReaderUnavailable, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    reader = SimulatedReader(sock, uid_file)
    debounce = Debouncer(app.config["RFID_DEBOUNCE_SECONDS"])
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"RFID reader service ({status['backend']}) on {sock.path}")
    try:
        while not stopping:
            raw = reader.poll(POLL_SECONDS)
            if raw is None:
                continue
            try:
                uid = normalise(raw)
            except ValueError as exc:
                log.warning("ignored a read: %s", exc)
                continue
            if not debounce.fresh(uid):
                continue
            try:
                scan = handle_scan(uid, app.config)
            except Exception:  # noqa: BLE001 - one bad scan must not stop the reader
                log.exception("scan of %s failed", uid)
                continue
            click.echo(f"{uid}: {scan.result}: {scan.detail}")
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


@rfid.command("scan")
@click.argument("uid")
def scan(uid: str) -> None:
    """Present card UID to the running reader service (the simulated backend's input)."""
    try:
        uid = normalise(uid)
        send_scan(current_app.config["RFID_SOCKET"], uid)
    except (ValueError, ReaderUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"sent {uid} to the reader service")
