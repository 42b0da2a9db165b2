"""Decoding and encoding, with the vendor documents' own examples as vectors."""

from __future__ import annotations

import datetime as dt

import pytest

from custom_components.wallbox_modbus.charger.codec import (
    decode,
    decode_int,
    encode,
    split_bits,
    trim_hex_bytes,
)
from custom_components.wallbox_modbus.charger.const import Table
from custom_components.wallbox_modbus.charger.reader import box_clock
from custom_components.wallbox_modbus.charger.registers import Point, load_map

AMP = load_map("amperfied_connect")
VESTEL = load_map("vestel_evc04")
COMPLEO = load_map("compleo_duo_solo")


@pytest.mark.parametrize(
    ("high", "low", "vah"),
    [
        (23, 1974, 1509302),  # [017-018] example (the document's sum line says 1114112 + 1974)
        (10, 100, 655460),
        (1, 1000, 66536),
        (5, 37, 327717),
    ],
)
def test_amperfied_energy_high_word_first(high: int, low: int, vah: int) -> None:
    point = AMP.point("energy_total")
    assert decode_int(point, [high, low]) == vah
    assert decode(point, [high, low]) == pytest.approx(vah / 1000)
    assert encode(point, vah / 1000) == [high, low]


@pytest.mark.parametrize(("raw", "celsius"), [(325, 32.5), (0x10000 - 145, -14.5), (0, 0)])
def test_amperfied_temperature_int16(raw: int, celsius: float) -> None:
    point = AMP.point("temperature")
    assert decode(point, [raw]) == celsius
    assert encode(point, celsius) == [raw]


@pytest.mark.parametrize(
    ("raw", "text"), [(264, "1.0.8"), (256, "1.0.0"), (0x200, "2.0.0"), (0x201, "2.0.1")]
)
def test_amperfied_layout_version_hex_digits(raw: int, text: str) -> None:
    point = AMP.point("layout_version")
    assert decode(point, [raw]) == text
    assert encode(point, text) == [raw]


def test_amperfied_current_tenths() -> None:
    assert decode(AMP.point("current_l1"), [145]) == 14.5
    assert decode(AMP.point("current_l1"), [1]) == 0.1
    assert decode(AMP.point("charging_current"), [160]) == 16.0


def test_amperfied_rfid_uid_example() -> None:
    point = AMP.point("rfid_uid")
    words = [0x0449, 0x62FA, 0xBA10, 0x9000, 0x0000, 0x0000]
    text = decode(point, words)
    assert trim_hex_bytes(text, 7) == "04 49 62 FA BA 10 90"
    assert encode(point, text) == words


def test_amperfied_card_number_example() -> None:
    words = [0x3030, 0x3034, 0x3035, 0x3530, 0x3739, 0x3138, 0x3937, 0x3034, 0x3131, 0x3536]
    point = AMP.point("rfid_card_number")
    assert decode(point, words) == "00040550791897041156"
    assert encode(point, "00040550791897041156") == words


def test_amperfied_mid_serial_example() -> None:
    point = AMP.point("mid_serial_number")
    words = [0x3535, 0x3339, 0x3134, 0x3839, 0x3600] + [0] * 46
    assert decode(point, words) == "553914896"


def test_amperfied_rfid_status_bits() -> None:
    point = AMP.point("rfid_status")
    assert split_bits(point, 0b101) == {
        "rfid_whitelist": True,
        "rfid_card_security": False,
        "rfid_authentication": True,
    }


def test_amperfied_charging_state_enum() -> None:
    point = AMP.point("charging_state")
    assert decode(point, [7]) == "C2"
    assert decode(point, [10]) == "F"
    assert decode(point, [1]) is None  # outside the documented range


def test_compleo_firmware_example() -> None:
    point = COMPLEO.point("firmware")
    assert decode(point, [0x0100, 0x0604]) == "6.4.1"
    assert encode(point, "6.4.1") == [0x0100, 0x0604]


@pytest.mark.parametrize(
    ("word", "text"), [(0x0D01, "13.1"), (0x0D00, "13.0"), (0xFFFF, "255.255")]
)
def test_compleo_hardware_revision_is_two_bytes(word: int, text: str) -> None:
    """Register 15: board revision << 8 | power-module version, as board.module."""
    point = COMPLEO.point("hardware_revision")
    assert decode(point, [word]) == text
    assert encode(point, text) == [word]


def test_byte_pair_refuses_a_number_past_a_byte() -> None:
    with pytest.raises(ValueError, match="two bytes"):
        encode(COMPLEO.point("hardware_revision"), "256.1")


def test_compleo_power_in_100w_steps_and_left_block() -> None:
    assert decode(COMPLEO.point("max_power", 1), [14]) == 1400
    assert COMPLEO.point("max_power", 2).address == 272
    assert COMPLEO.point("current_l2", 2).address == 276  # row lost in the OCR
    assert COMPLEO.point("voltage_l2", 2).address == 286
    assert decode(COMPLEO.point("energy_session", 1), [123]) == 12.3
    assert decode(COMPLEO.point("session_duration", 1), [1, 2]) == 65538


def test_compleo_status_word_bits() -> None:
    point = COMPLEO.point("status_word", 1)
    assert split_bits(point, 0b0011) == {
        "vehicle_connected": True,
        "charging": True,
        "limited": False,
        "error": False,
    }


def test_vestel_u32_words_and_scaling() -> None:
    assert decode(VESTEL.point("power"), [1, 0]) == 65536
    assert decode(VESTEL.point("power"), [0, 11040]) == 11040
    assert decode(VESTEL.point("current_l1"), [16000]) == 16.0
    assert decode(VESTEL.point("current_l1"), [6123]) == 6.123
    assert decode(VESTEL.point("energy_total"), [0, 12345]) == 1234.5  # 0.1 kWh
    assert decode(VESTEL.point("energy_session"), [0, 4321]) == 4.321  # Wh -> kWh
    assert encode(VESTEL.point("energy_total"), 1234.5) == [0, 12345]


def test_vestel_strings_one_character_per_register() -> None:
    point = VESTEL.point("model")
    assert decode(point, [ord(c) for c in "EVC04"]) == "EVC04"
    assert decode(point, [ord("E"), ord("V"), 0, ord("X"), 0]) == "EV"
    assert encode(point, "EV") == [ord("E"), ord("V"), 0, 0, 0]


def test_vestel_enums() -> None:
    assert decode(VESTEL.point("status"), [2]) == "charging"
    assert decode(VESTEL.point("cable_state"), [3]) == "vehicle_locked"
    assert decode(VESTEL.point("phases"), [0]) == 1
    assert decode(VESTEL.point("phases"), [1]) == 3


def test_vestel_clock_yymmdd_hhmmss() -> None:
    assert box_clock(251121, 143005) == dt.datetime(2025, 11, 21, 14, 30, 5)
    assert box_clock(251321, 143005) is None  # month 13
    assert box_clock(None, 143005) is None


def test_encode_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode(VESTEL.point("charging_current"), 70000)
    with pytest.raises(ValueError, match="longer"):
        encode(VESTEL.point("model"), "EVC04X")
    with pytest.raises(ValueError, match="expected 2 registers"):
        decode(VESTEL.point("power"), [1])


def _point(type_name: str, scale: float = 1, count: int = 2) -> Point:
    return Point(key="x", address=0, table=Table.INPUT, type=type_name, count=count, scale=scale)


@pytest.mark.parametrize(
    ("type_name", "words", "value"),
    [
        ("u32", [0x0001, 0x0002], 65538),
        ("u32_low_first", [0x0002, 0x0001], 65538),
        ("s32", [0xFFFF, 0xFFFE], -2),
        ("s32_low_first", [0xFFFE, 0xFFFF], -2),
        ("f32", [0x4148, 0x0000], 12.5),  # IEEE 754 12.5 = 0x41480000
        ("f32_low_first", [0x0000, 0x4148], 12.5),
    ],
)
def test_word_orders_and_floats(type_name: str, words: list[int], value: float) -> None:
    point = _point(type_name)
    assert decode(point, words) == value
    assert encode(point, value) == words


def test_float_scale_and_nan() -> None:
    point = _point("f32", scale=0.001)
    assert decode(point, [0x4148, 0x0000]) == pytest.approx(0.0125)
    assert decode(point, [0x7FC0, 0x0000]) is None  # NaN: no value


def test_byte_pair() -> None:
    point = _point("byte_pair", count=1)
    assert decode(point, [(13 << 8) | 1]) == "13.1"
    assert encode(point, "13.1") == [(13 << 8) | 1]
    with pytest.raises(ValueError, match="two bytes"):
        encode(point, "256.1")
