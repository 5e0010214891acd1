"""The MFRC522 backend against a model of the chip at the SPI level: the ``xfer2`` transfers
a real chip would get, answered as an MFRC522 with an ISO 14443-A card in its field does.
4-, 7- and 10-byte UIDs come out whole, without cascade tags or BCC; a held card is read once;
polling with no card sleeps instead of spinning."""
from __future__ import annotations

import pytest

from app.hardware import mfrc522 as m
from app.hardware.mfrc522 import Mfrc522Reader, crc_a


class FakeChip:
    """An MFRC522's registers and FIFO, with a card model behind Transceive."""

    def __init__(self) -> None:
        self.regs = [0] * 64
        self.regs[m.VERSION] = 0x92
        self.fifo: list[int] = []
        self.card: list[int] | None = None
        self.halted = False
        self.transfers = 0
        self.frames: list[list[int]] = []

    def present(self, uid: bytes | None) -> None:
        self.card = list(uid) if uid is not None else None
        self.halted = False

    def xfer2(self, data: list[int]) -> list[int]:
        self.transfers += 1
        assert len(data) == 2, "one register per transfer"
        register = (data[0] >> 1) & 0x3F
        if data[0] & 0x80:
            if register == m.FIFO_DATA:
                return [0, self.fifo.pop(0)]
            if register == m.FIFO_LEVEL:
                return [0, len(self.fifo)]
            return [0, self.regs[register]]
        self._write(register, data[1])
        return [0, 0]

    def _write(self, register: int, value: int) -> None:
        if register == m.FIFO_DATA:
            self.fifo.append(value)
        elif register == m.FIFO_LEVEL:
            if value & 0x80:
                self.fifo.clear()
        elif register == m.COM_IRQ:
            if value & 0x80:
                self.regs[register] |= value & 0x7F
            else:
                self.regs[register] &= ~value
        elif register == m.COMMAND and value == m.SOFT_RESET:
            version, self.regs = self.regs[m.VERSION], [0] * 64
            self.regs[m.VERSION] = version
        else:
            self.regs[register] = value
            if (register == m.BIT_FRAMING and value & 0x80
                    and self.regs[m.COMMAND] == m.TRANSCEIVE):
                self._exchange(value & 0x07)

    def _levels(self) -> list[list[int]]:
        uid = self.card or []
        if len(uid) == 4:
            return [uid]
        if len(uid) == 7:
            return [[m.CASCADE_TAG, *uid[:3]], uid[3:]]
        return [[m.CASCADE_TAG, *uid[:3]], [m.CASCADE_TAG, *uid[3:6]], uid[6:]]

    def _exchange(self, last_bits: int) -> None:
        frame, self.fifo = list(self.fifo), []
        self.frames.append(frame)
        answer = self._answer(frame, last_bits)
        if answer is None:
            self.regs[m.COM_IRQ] |= m.TIMER_IRQ
        else:
            self.fifo = answer
            self.regs[m.COM_IRQ] |= m.RX_IRQ | m.IDLE_IRQ

    def _answer(self, frame: list[int], last_bits: int) -> list[int] | None:
        if self.card is None:
            return None
        if frame == [m.REQA] and last_bits == 7:
            return None if self.halted else [0x44, 0x00]
        if frame[0] in m.CASCADE_LEVELS:
            level = m.CASCADE_LEVELS.index(frame[0])
            part = self._levels()[level]
            if frame[1] == 0x20:
                return [*part, part[0] ^ part[1] ^ part[2] ^ part[3]]
            if frame[1] == 0x70:
                assert crc_a(frame[:7]) == frame[7:], "SELECT needs its CRC_A"
                sak = m.SAK_UID_NOT_COMPLETE if level + 1 < len(self._levels()) else 0x08
                return [sak, *crc_a([sak])]
        if frame[:2] == [m.HLTA, 0x00]:
            self.halted = True
        return None


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


@pytest.fixture
def chip_and_reader():
    chip, clock = FakeChip(), FakeTime()
    reader = Mfrc522Reader(chip, sleep=clock.sleep, clock=clock.clock)
    return chip, reader, clock


def test_crc_a_matches_iso_14443_3():
    assert crc_a([0x00, 0x00]) == [0xA0, 0x1E]
    assert crc_a([m.HLTA, 0x00]) == [0x57, 0xCD]


@pytest.mark.parametrize("uid", [bytes.fromhex("04A2B3C4"), bytes.fromhex("04112233445566"),
                                 bytes.fromhex("0102030405060708090A")])
def test_single_double_and_triple_size_uids_are_read_whole(chip_and_reader, uid):
    chip, reader, _ = chip_and_reader
    assert reader.version() == 0x92
    chip.present(uid)
    assert reader.poll(1.0) == uid.hex().upper()
    # The card was halted: held on the reader, it is not read again until it comes back.
    assert reader.poll(0.5) is None
    chip.present(uid)
    assert reader.poll(0.5) == uid.hex().upper()


def test_polling_without_a_card_sleeps_instead_of_spinning(chip_and_reader):
    chip, reader, clock = chip_and_reader
    before = chip.transfers
    assert reader.poll(5.0) is None
    assert clock.slept >= 4.5  # the time went in sleep ...
    assert chip.transfers - before < 50 * 20  # ... and ~20 transfers per 0.1 s attempt


def test_a_card_leaving_mid_read_is_no_scan(chip_and_reader):
    chip, reader, _ = chip_and_reader
    chip.present(bytes.fromhex("04112233445566"))
    real_answer = chip._answer

    def gone_after_level_1(frame, last_bits):
        if frame[0] == m.CASCADE_LEVELS[1]:
            return None
        return real_answer(frame, last_bits)

    chip._answer = gone_after_level_1
    assert reader.poll(0.3) is None


def test_the_service_reads_the_chip_and_the_socket_in_turn(tmp_path, chip_and_reader):
    """On a real node ``flask rfid scan`` still works beside the reader, and a status
    request is answered while no card is there."""
    import threading

    from app.hardware.rfid import DeviceReader, ServiceSocket, send_scan, service_status

    chip, reader, _ = chip_and_reader
    path = str(tmp_path / "rfid.sock")
    service = DeviceReader(ServiceSocket(path, {"backend": "mfrc522", "pid": 1}), reader)
    try:
        chip.present(bytes.fromhex("04A2B3C4"))
        assert service.poll(1.0) == "04A2B3C4"
        got = []
        worker = threading.Thread(target=lambda: got.append(
            [service.poll(0.5) for _ in range(4)]))
        worker.start()
        assert service_status(path)["backend"] == "mfrc522"
        assert send_scan(path, "04FFFFFF") == {"queued": "04FFFFFF"}
        worker.join(30)
        assert "04FFFFFF" in got[0]
    finally:
        service.close()
