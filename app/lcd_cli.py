"""``flask lcd run --simulated``: the LCD service. It cycles through the screens of
``node/lcd_screens.py`` a page at a time (``LCD_PAGE_SECONDS``), and shows a new scan's
result at once."""
from __future__ import annotations

import logging
import signal
import time

import click
from flask import Blueprint, current_app

from .extensions import db
from .hardware.lcd import Mirrored, SimulatedDisplay, frames

bp = Blueprint("lcd_cli", __name__, cli_group=None)
log = logging.getLogger(__name__)


@bp.cli.group("lcd")
def lcd() -> None:
    """The character LCD service."""


def _open_pcf8574(config):
    """The display on the configured I2C bus (smbus2 is imported only here)."""
    from .hardware.pcf8574 import Pcf8574Display

    port, address = config["LCD_I2C_PORT"], config["LCD_I2C_ADDRESS"]
    try:
        return Pcf8574Display.open(port, address)
    except ImportError as exc:
        raise click.ClickException(f"the LCD backend needs smbus2 ({exc}): it installs on ARM "
                                   "Linux from requirements.txt; elsewhere run with "
                                   "--simulated") from None
    except OSError as exc:
        raise click.ClickException(f"no display answers at {address:#04x} on /dev/i2c-{port}: "
                                   f"{exc} (check with i2cdetect -y {port}; a PCF8574A is at "
                                   "0x3F)") from None


@lcd.command("run")
@click.option("--simulated", is_flag=True,
              help="No hardware: the frame is kept in LCD_FRAME_FILE (the node page shows it). "
                   "Without it: the PCF8574 at LCD_I2C_ADDRESS on LCD_I2C_PORT, mirrored there.")
def run(simulated: bool) -> None:
    """Run the LCD service."""
    from .node.lcd_screens import latest_scan, scan_screen, screens
    from .services import node_features

    app = current_app._get_current_object()
    preview = SimulatedDisplay(app.config["LCD_FRAME_FILE"],
                               "simulated" if simulated else "pcf8574")
    display = preview if simulated else Mirrored(_open_pcf8574(app.config), preview)
    page_seconds = app.config["LCD_PAGE_SECONDS"]
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    click.echo(f"LCD service ({preview.backend}), frame in {preview.path}")
    shown_scan, queue = None, []
    try:
        while not stopping:
            try:
                scan = latest_scan()
                if not node_features.is_enabled(app.config, "lcd"):
                    queue = [("", "")]  # switched off: a blank display
                elif scan is not None and scan.id != shown_scan:
                    shown_scan, queue = scan.id, frames(*scan_screen(scan))
                elif not queue:
                    queue = [f for screen in screens(app.config) for f in frames(*screen)]
                    if scan is not None:
                        queue = frames(*scan_screen(scan)) + queue
                display.show(queue.pop(0))
            except Exception:  # noqa: BLE001 - a failed refresh must not stop the display
                log.exception("LCD refresh failed")
            finally:
                db.session.remove()  # the next refresh reads what was committed since
            time.sleep(page_seconds)
    except KeyboardInterrupt:
        pass
    finally:
        display.close()
