"""Configuration: every setting comes from an environment variable with a documented default.

The defaults are the embedded Terminal setup: SQLite under ``instance/``, no Redis, unknown
chargers enrolled automatically. docs/configuration.md lists every variable.
"""
from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"
DATABASE_BACKENDS = ("sqlite", "postgresql")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the variable and says what it needs."""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _database_url(default: str) -> str:
    """DATABASE_URL, checked to be a URL of a database we run on (the password never shown)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = os.environ.get("DATABASE_URL") or default
    example = "sqlite:////path/to/file.db or postgresql+psycopg://user:password@host/db"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ConfigError(f"DATABASE_URL is not a database URL; expected {example}") from None
    if url.get_backend_name() not in DATABASE_BACKENDS:
        raise ConfigError(f"DATABASE_URL names the database {url.get_backend_name()!r}; "
                          f"Constellation runs on SQLite or PostgreSQL: {example}")
    try:
        url.get_dialect().import_dbapi()
    except ImportError as exc:
        raise ConfigError(f"DATABASE_URL needs the driver {url.drivername!r}, which is not "
                          f"installed ({exc}); for PostgreSQL use postgresql+psycopg://") from None
    return raw


REDIS_SCHEMES = ("redis", "rediss", "unix")


def _redis_url() -> str:
    """REDIS_URL, empty or a URL redis-py can use (checked here, so never on a charger's path)."""
    from urllib.parse import urlsplit

    raw = os.environ.get("REDIS_URL", "").strip()
    if not raw:
        return ""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in REDIS_SCHEMES:
        raise ConfigError("REDIS_URL is not a Redis URL; expected redis://host:6379/0, "
                          "rediss://... or unix:///path/to/redis.sock")
    return raw


def _schedule(name: str) -> dict[str, float]:
    from .schedule import parse_intervals

    try:
        return parse_intervals(os.environ.get(name, ""))
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _i2c_address(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 0)
    except ValueError:
        value = -1
    if not 0x03 <= value <= 0x77:
        raise ConfigError(f"{name} must be a 7-bit I2C address such as 0x27 or 0x3F, got {raw!r}")
    return value


def _features(name: str) -> tuple[str, ...] | None:
    """CONSTELLATION_FEATURES: comma-separated feature names; unset or empty: the role's."""
    from .services.node_features import FEATURES

    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    unknown = [n for n in names if n not in FEATURES]
    if unknown:
        raise ConfigError(f"{name} names unknown features {', '.join(unknown)}; "
                          f"known: {', '.join(FEATURES)}")
    return names


def load_config() -> dict:
    """Read the environment into a Flask config mapping."""
    instance = Path(os.environ.get("CONSTELLATION_INSTANCE_DIR", INSTANCE_DIR))
    return {
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev-only-change-me"),
        "SQLALCHEMY_DATABASE_URI": _database_url(f"sqlite:///{instance / 'constellation.db'}"),
        # PRAGMA synchronous for SQLite: FULL fsyncs the WAL at each (group) commit, so a reply
        # is never sent for data a power cut could take away. NORMAL trades that for speed.
        "SQLITE_SYNCHRONOUS": _choice("SQLITE_SYNCHRONOUS", "FULL", ("FULL", "NORMAL", "OFF")),
        "REDIS_URL": _redis_url(),
        # With Redis: how long live events are batched before they go to the other processes.
        "EVENTS_FLUSH_SECONDS": _float("EVENTS_FLUSH_SECONDS", 0.05),
        # OCPP transport
        "OCPP_PATH_PREFIX": "/" + os.environ.get("OCPP_PATH_PREFIX", "/ocpp").strip("/"),
        "OCPP_HEARTBEAT_INTERVAL": _int("OCPP_HEARTBEAT_INTERVAL", 300),
        "OCPP_CALL_TIMEOUT": _float("OCPP_CALL_TIMEOUT", 30.0),
        "OCPP_UNKNOWN_CHARGERS": _choice(
            "OCPP_UNKNOWN_CHARGERS", "accept", ("accept", "pending", "reject")
        ),
        "OCPP_UNKNOWN_ID_TAGS": _choice("OCPP_UNKNOWN_ID_TAGS", "reject", ("reject", "accept")),
        # A charger that sends no Sec-WebSocket-Protocol header speaks this version; empty: refuse.
        "OCPP_NO_SUBPROTOCOL_VERSION": os.environ.get("OCPP_NO_SUBPROTOCOL_VERSION", "1.6"),
        "OCPP_MAX_FRAME_BYTES": _int("OCPP_MAX_FRAME_BYTES", 256 * 1024),
        "OCPP_PING_INTERVAL": _float("OCPP_PING_INTERVAL", 60.0),
        # 0: a charger that never answers pings stays connected (many don't answer).
        "OCPP_MAX_MISSED_PONGS": _int("OCPP_MAX_MISSED_PONGS", 0),
        # A charger that takes no data for this long while we write to it is disconnected.
        "OCPP_WRITE_TIMEOUT": _float("OCPP_WRITE_TIMEOUT", 10.0),
        # Admission control (transport/admission.py): new handshakes get 503 + Retry-After while
        # the writer is this many units behind, or this many admitted chargers wait for their
        # first answer; 0 switches a check off.
        "OCPP_ADMISSION_MAX_BACKLOG": _int("OCPP_ADMISSION_MAX_BACKLOG", 5000),
        "OCPP_ADMISSION_MAX_PENDING_HANDSHAKES": _int("OCPP_ADMISSION_MAX_PENDING_HANDSHAKES",
                                                      3000),
        "OCPP_ADMISSION_RETRY_AFTER": _float("OCPP_ADMISSION_RETRY_AFTER", 2.0),
        "MESSAGE_LOG_ENABLED": _bool("MESSAGE_LOG_ENABLED", True),
        "MESSAGE_LOG_RETENTION_DAYS": _float("MESSAGE_LOG_RETENTION_DAYS", 14.0),
        # Scheduled jobs (app/schedule.py): intervals as name=seconds,... over the defaults.
        "SCHEDULE_INTERVALS": _schedule("SCHEDULE_INTERVALS"),
        # Offline alert after heartbeat interval x OFFLINE_FACTOR + OFFLINE_GRACE_SECONDS of
        # silence.
        "OFFLINE_FACTOR": _float("OFFLINE_FACTOR", 2.0),
        "OFFLINE_GRACE_SECONDS": _float("OFFLINE_GRACE_SECONDS", 60.0),
        # A command still pending this long after its timeout is closed as error Expired.
        "STALE_COMMAND_GRACE_SECONDS": _float("STALE_COMMAND_GRACE_SECONDS", 300.0),
        # Raw meter values are kept this many days, then folded into 15-minute aggregates
        # (0: raw values kept for ever).
        "METER_VALUE_RAW_DAYS": _float("METER_VALUE_RAW_DAYS", 90.0),
        # How long a coalesced last-seen time may wait before it is written.
        "LAST_SEEN_FLUSH_SECONDS": _float("LAST_SEEN_FLUSH_SECONDS", 1.0),
        # Garbage collector (app/gcpolicy.py): freeze what survives a full collection, and
        # unfreeze and collect everything once per GC_FULL_COLLECT_SECONDS (0: never).
        "GC_FREEZE_SURVIVORS": _bool("GC_FREEZE_SURVIVORS", True),
        "GC_FULL_COLLECT_SECONDS": _float("GC_FULL_COLLECT_SECONDS", 3600.0),
        # Absolute base for URLs handed to chargers (firmware downloads, diagnostics uploads).
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "FILE_URL_TTL_SECONDS": _int("FILE_URL_TTL_SECONDS", 24 * 3600),
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 256 * 1024 * 1024),
        # The node (app/services/node_features.py): its role decides which features are on;
        # CONSTELLATION_FEATURES (what provisioning installed) replaces the role's list, and an
        # admin's switch in the console (stored in the database) wins over both.
        "NODE_ROLE": _choice("NODE_ROLE", "terminal",
                             ("terminal", "control", "satellite", "watchtower")),
        "CONSTELLATION_FEATURES": _features("CONSTELLATION_FEATURES"),
        "UPGRADE_CHANNEL": os.environ.get("UPGRADE_CHANNEL", "manual"),
        "UPGRADE_STATE_FILE": os.environ.get("UPGRADE_STATE_FILE",
                                             "/opt/constellation/upgrade-state.json"),
        # RFID reader (docs/hardware.md): the service's socket, the charger an accepted card
        # starts a session on, what an unknown card gets, and the debounce window.
        "RFID_SOCKET": os.environ.get("RFID_SOCKET", str(instance / "rfid.sock")),
        "RFID_CHARGER": os.environ.get("RFID_CHARGER", "").strip(),
        "RFID_CONNECTOR": _int("RFID_CONNECTOR", 1),
        "RFID_UNKNOWN_CARDS": _choice("RFID_UNKNOWN_CARDS", "pending", ("pending", "accept")),
        "RFID_DEBOUNCE_SECONDS": _float("RFID_DEBOUNCE_SECONDS", 2.0),
        # The MFRC522: SPI bus and chip select (/dev/spidev<bus>.<device>), RST as BCM pin
        # (-1: not wired).
        "RFID_SPI_BUS": _int("RFID_SPI_BUS", 0),
        "RFID_SPI_DEVICE": _int("RFID_SPI_DEVICE", 0),
        "RFID_RESET_PIN": (None if _int("RFID_RESET_PIN", 25) < 0
                           else _int("RFID_RESET_PIN", 25)),
        # The LCD service (flask lcd run): where the simulated display keeps its frame, and
        # how long each page stays.
        "LCD_FRAME_FILE": os.environ.get("LCD_FRAME_FILE", str(instance / "lcd-frame.json")),
        "LCD_PAGE_SECONDS": _float("LCD_PAGE_SECONDS", 3.0),
        # The real display: its PCF8574 backpack on /dev/i2c-<port> (0x27; a PCF8574A: 0x3F).
        "LCD_I2C_PORT": _int("LCD_I2C_PORT", 1),
        "LCD_I2C_ADDRESS": _i2c_address("LCD_I2C_ADDRESS", 0x27),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    }
