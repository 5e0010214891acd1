"""The real RFID backend: an MFRC522 on SPI, read with REQA and anticollision/SELECT at
cascade levels 1 to 3, so 4-, 7- and 10-byte UIDs come out whole and without the BCC byte.

Written here rather than taken from the ``mfrc522`` package, which busy-waits in ``read()``,
imports RPi.GPIO at import time (failing off a Pi and on a Pi 5), reads 4-byte UIDs only with
the BCC inside, and truncates 7-byte UIDs behind the cascade tag (docs/hardware.md).

The chip is reached through one seam, ``spi.xfer2(list[int]) -> list[int]`` (``spidev``'s
call), so tests drive it with a model of the chip. ``open`` imports ``spidev`` and
``gpiozero`` (lgpio pin factory on a Pi 5) only when called, on the machine that has them.
``poll`` sleeps between attempts: it never busy-loops a core.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

# Registers
COMMAND, COM_IEN, COM_IRQ, ERROR, FIFO_DATA, FIFO_LEVEL = 0x01, 0x02, 0x04, 0x06, 0x09, 0x0A
CONTROL, BIT_FRAMING, COLL, MODE, TX_CONTROL, TX_ASK = 0x0C, 0x0D, 0x0E, 0x11, 0x14, 0x15
T_MODE, T_PRESCALER, T_RELOAD_H, T_RELOAD_L, VERSION = 0x2A, 0x2B, 0x2C, 0x2D, 0x37
# Commands
IDLE, TRANSCEIVE, SOFT_RESET = 0x00, 0x0C, 0x0F
# ComIrqReg bits
RX_IRQ, IDLE_IRQ, ERR_IRQ, TIMER_IRQ = 0x20, 0x10, 0x02, 0x01
# ISO 14443-3 type A
REQA, HLTA, CASCADE_TAG = 0x26, 0x50, 0x88
CASCADE_LEVELS = (0x93, 0x95, 0x97)
SAK_UID_NOT_COMPLETE = 0x04


class Spi(Protocol):
    def xfer2(self, data: list[int]) -> list[int]: ...


class NoCard(Exception):
    """No card answered, or the exchange failed (a card moved away mid-read)."""


def crc_a(data: list[int]) -> list[int]:
    """ISO/IEC 14443-3 CRC_A (initial 0x6363, reflected polynomial 0x8408), low byte first."""
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte ^= (byte << 4) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
        crc &= 0xFFFF
    return [crc & 0xFF, crc >> 8]


class Mfrc522Reader:
    """``poll(timeout) -> uid | None`` on an MFRC522 (``RfidReader``)."""

    # One attempt costs a few SPI transfers; 10 a second is prompt and costs no CPU to speak of.
    POLL_INTERVAL = 0.1
    # The chip's own timer ends an unanswered exchange after ~25 ms; this bounds our wait.
    EXCHANGE_SECONDS = 0.05

    def __init__(self, spi: Spi, reset: Any = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.spi = spi
        self.reset = reset
        self.sleep = sleep
        self.clock = clock
        self._init_chip()

    @classmethod
    def open(cls, bus: int = 0, device: int = 0, reset_pin: int | None = 25,
             speed_hz: int = 1_000_000) -> Mfrc522Reader:
        """The reader on SPI ``bus``.``device`` with RST on BCM ``reset_pin`` (a Pi)."""
        import spidev  # noqa: PLC0415 - hardware package, only on the machine that has it

        spi = spidev.SpiDev()
        spi.open(bus, device)
        spi.max_speed_hz = speed_hz
        spi.mode = 0
        reset = None
        if reset_pin is not None:
            from gpiozero import DigitalOutputDevice  # noqa: PLC0415

            reset = DigitalOutputDevice(reset_pin, initial_value=True)
        return cls(spi, reset)

    # Registers -------------------------------------------------------------------------
    def write(self, register: int, value: int) -> None:
        self.spi.xfer2([(register << 1) & 0x7E, value & 0xFF])

    def read(self, register: int) -> int:
        return self.spi.xfer2([((register << 1) & 0x7E) | 0x80, 0])[1]

    def _set_bits(self, register: int, mask: int) -> None:
        self.write(register, self.read(register) | mask)

    def _clear_bits(self, register: int, mask: int) -> None:
        self.write(register, self.read(register) & ~mask)

    def version(self) -> int:
        """VersionReg: 0x91 or 0x92 for a genuine chip, 0x88 for common clones."""
        return self.read(VERSION)

    def _init_chip(self) -> None:
        if self.reset is not None:
            self.reset.on()
        self.write(COMMAND, SOFT_RESET)
        self.sleep(0.05)
        # Timer: ~25 ms per exchange, started at the end of each transmission.
        self.write(T_MODE, 0x8D)
        self.write(T_PRESCALER, 0x3E)
        self.write(T_RELOAD_L, 30)
        self.write(T_RELOAD_H, 0)
        self.write(TX_ASK, 0x40)  # 100 % ASK
        self.write(MODE, 0x3D)  # CRC preset 0x6363
        self._set_bits(TX_CONTROL, 0x03)  # antenna on

    # Exchanges -------------------------------------------------------------------------
    def transceive(self, data: list[int], last_bits: int = 0) -> list[int]:
        """Send ``data`` (its last byte ``last_bits`` long, 0: 8) and return the answer."""
        self.write(COMMAND, IDLE)
        self.write(COM_IRQ, 0x7F)  # clear every interrupt request
        self.write(FIFO_LEVEL, 0x80)  # flush the FIFO
        for byte in data:
            self.write(FIFO_DATA, byte)
        self.write(BIT_FRAMING, last_bits & 0x07)
        self.write(COMMAND, TRANSCEIVE)
        self._set_bits(BIT_FRAMING, 0x80)  # StartSend
        deadline = self.clock() + self.EXCHANGE_SECONDS
        while True:
            irq = self.read(COM_IRQ)
            if irq & (RX_IRQ | IDLE_IRQ):
                break
            if irq & TIMER_IRQ or self.clock() > deadline:
                self._clear_bits(BIT_FRAMING, 0x80)
                raise NoCard("no answer")
            self.sleep(0.001)
        self._clear_bits(BIT_FRAMING, 0x80)
        if self.read(ERROR) & 0x1B:  # buffer overflow, collision, parity, protocol
            raise NoCard("the exchange failed")
        return [self.read(FIFO_DATA) for _ in range(self.read(FIFO_LEVEL))]

    def read_uid(self) -> str:
        """The UID of the card in the field as upper-case hex (NoCard when there is none)."""
        self._clear_bits(COLL, 0x80)  # bits received after a collision are cleared
        atqa = self.transceive([REQA], last_bits=7)
        if len(atqa) != 2:
            raise NoCard("no ATQA")
        uid: list[int] = []
        for level in CASCADE_LEVELS:
            part = self.transceive([level, 0x20])
            if len(part) != 5 or part[0] ^ part[1] ^ part[2] ^ part[3] != part[4]:
                raise NoCard("bad anticollision answer (BCC)")
            frame = [level, 0x70, *part]
            sak = self.transceive(frame + crc_a(frame))
            if len(sak) != 3 or crc_a(sak[:1]) != sak[1:]:
                raise NoCard("bad SELECT answer")
            if sak[0] & SAK_UID_NOT_COMPLETE:
                if part[0] != CASCADE_TAG:
                    raise NoCard("UID incomplete without a cascade tag")
                uid += part[1:4]  # the cascade tag and the BCC are no part of the UID
                continue
            uid += part[:4]
            break
        else:
            raise NoCard("UID longer than three cascade levels")
        self._halt()
        return bytes(uid).hex().upper()

    def _halt(self) -> None:
        frame = [HLTA, 0x00]
        try:
            self.transceive(frame + crc_a(frame))
        except NoCard:
            pass  # a halted card does not answer: that is success

    def poll(self, timeout: float) -> str | None:
        deadline = self.clock() + timeout
        while True:
            try:
                return self.read_uid()
            except NoCard:
                pass
            if self.clock() + self.POLL_INTERVAL > deadline:
                return None
            self.sleep(self.POLL_INTERVAL)

    def close(self) -> None:
        self.write(COMMAND, SOFT_RESET)
        close = getattr(self.spi, "close", None)
        if close:
            close()
        if self.reset is not None:
            self.reset.close()
