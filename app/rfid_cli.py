"""``flask rfid run [--simulated] [--file F]``: the reader service; ``flask rfid scan UID``:
present a card to the running service (app/hardware/rfid.py says how they talk)."""
from __future__ import annotations

import logging
import os
import signal
import time

import click
from flask import Blueprint, current_app

from .extensions import db
from .hardware.rfid import (
    Debouncer,
    DeviceReader,
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
              help="No hardware: UIDs come from 'flask rfid scan' (and --file). Without it: "
                   "the MFRC522 on SPI (RFID_SPI_BUS, RFID_SPI_DEVICE, RFID_RESET_PIN).")
@click.option("--file", "uid_file", type=click.Path(exists=True, dir_okay=False),
              help="With --simulated: scan these UIDs first (one a line).")
def run(simulated: bool, uid_file: str | None) -> None:
    """Run the reader service: each debounced scan goes through the scan flow."""
    from .services import node_features
    from .services.rfid import handle_scan

    app = current_app._get_current_object()
    if not node_features.is_enabled(app.config, "rfid"):
        click.echo("note: the rfid feature is off for this node: scans are recorded as "
                   "ignored until an admin switches it on", err=True)
    if uid_file and not simulated:
        raise click.ClickException("--file goes with --simulated")
    status = {"backend": "simulated" if simulated else "mfrc522", "pid": os.getpid(),
              "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    device = None if simulated else _open_mfrc522(app.config)
    try:
        sock = ServiceSocket(app.config["RFID_SOCKET"], status)
    except (ReaderUnavailable, OSError) as exc:
        if device is not None:
            device.close()
        raise click.ClickException(str(exc)) from None
    reader = SimulatedReader(sock, uid_file) if device is None else DeviceReader(sock, device)
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
                click.echo(f"{uid}: {scan.result}: {scan.detail}")
            except Exception:  # noqa: BLE001 - one bad scan must not stop the reader
                log.exception("scan of %s failed", uid)
                db.session.rollback()
            finally:
                db.session.remove()  # the next scan reads what was committed since
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()


def _open_mfrc522(config):
    """The MFRC522 on the configured SPI device (its packages are imported only here)."""
    from .hardware.mfrc522 import Mfrc522Reader

    try:
        device = Mfrc522Reader.open(config["RFID_SPI_BUS"], config["RFID_SPI_DEVICE"],
                                    config["RFID_RESET_PIN"])
    except ImportError as exc:
        raise click.ClickException(
            f"the MFRC522 backend needs spidev and gpiozero ({exc}): they install on ARM "
            "Linux from requirements.txt; elsewhere run with --simulated") from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot open SPI {config['RFID_SPI_BUS']}.{config['RFID_SPI_DEVICE']}: {exc} "
            "(is SPI enabled? ls /dev/spidev*)") from None
    version = device.version()
    if version in (0x00, 0xFF):
        device.close()
        raise click.ClickException(f"no MFRC522 answers on SPI (VersionReg {version:#04x}): "
                                   "check the wiring (docs/hardware.md)")
    return device


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
