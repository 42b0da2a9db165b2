"""Properties of the device layer, checked by Hypothesis on generated input.

- the codec: every register type and scale decodes what it encodes, and back;
- the planner: its plans are as short as the exact lower bound of
  scripts/bench_planner.py, for random point sets, gaps and safe ranges;
- every control of every model: whatever value it is given, nothing outside
  the map's valid values reaches the transport;
- random command sequences against the simulators of every model (with
  reconnects, reboots and changes made at the box): no write outside the
  valid values, the keepalive always due within the box's current timeout /
  per_timeout of the last time it was served and never lapsing, and after a
  quiet period the snapshot's values and wishes equal the box.

The examples are bounded and derandomised (the same on every run and every
pymodbus version); WALLBOX_HYPOTHESIS_EXAMPLES raises the bound for a longer
local run.
"""

from __future__ import annotations

import asyncio
import math
import os
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.wallbox_modbus.charger.codec import (
    decode,
    decode_int,
    encode,
    encode_int,
    raw_of,
    split_bits,
)
from custom_components.wallbox_modbus.charger.const import MAX_READ_REGISTERS, Table
from custom_components.wallbox_modbus.charger.models import MODELS
from custom_components.wallbox_modbus.charger.planner import Readable, plan
from custom_components.wallbox_modbus.charger.registers import TYPE_WIDTH, Point, SafeRange

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from bench_planner import lower_bound

from .rig import Rig

EXAMPLES = int(os.environ.get("WALLBOX_HYPOTHESIS_EXAMPLES", "0"))


def bounded(examples: int) -> settings:
    """Deterministic settings: the same examples on every run, no example database."""
    return settings(
        max_examples=max(examples, EXAMPLES),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ====================================================================== codec

SCALES = (1, 10, 100, 0.1, 0.01, 0.001, 0.5, 0.25, 2.5)
NUMERIC = ("u16", "s16", "u32", "s32", "u32_low_first", "s32_low_first")


def point(kind: str, *, scale: float = 1, count: int | None = None, **extra: object) -> Point:
    width = TYPE_WIDTH[kind]
    return Point(
        key="p",
        address=0,
        table=Table.HOLDING,
        type=kind,
        count=width if width is not None else (count or 1),
        scale=scale,
        **extra,  # type: ignore[arg-type]
    )


def raw_range(kind: str) -> tuple[int, int]:
    bits = 16 if kind.endswith("16") else 32
    if kind.startswith("s"):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


@st.composite
def numeric_raw(draw: st.DrawFn) -> tuple[Point, int]:
    kind = draw(st.sampled_from(NUMERIC))
    scale = draw(st.sampled_from(SCALES))
    low, high = raw_range(kind)
    return point(kind, scale=scale), draw(st.integers(low, high))


@bounded(400)
@given(numeric_raw())
def test_numbers_round_trip_through_their_scale(case: tuple[Point, int]) -> None:
    """raw -> registers -> value -> raw, for every numeric type and scale."""
    pt, raw = case
    words = encode_int(pt, raw)
    assert len(words) == pt.count and all(0 <= w <= 0xFFFF for w in words)
    assert decode_int(pt, words) == raw
    value = decode(pt, words)
    assert raw_of(pt, value) == raw
    assert encode(pt, value) == words
    assert math.isclose(value, raw * pt.scale, rel_tol=1e-12, abs_tol=pt.scale / 1000)


@bounded(200)
@given(st.sampled_from(NUMERIC), st.integers())
def test_numbers_outside_the_type_are_refused(kind: str, raw: int) -> None:
    pt = point(kind)
    low, high = raw_range(kind)
    if low <= raw <= high:
        assert decode_int(pt, encode_int(pt, raw)) == raw
    else:
        with pytest.raises(ValueError, match="out of range"):
            encode_int(pt, raw)


@bounded(200)
@given(st.data())
def test_mapped_values_round_trip(data: st.DataObject) -> None:
    """Every value of every mapped point of every map decodes from what it encodes."""
    maps = {model.regmap.name: model.regmap for model in MODELS.values()}
    mapped = [p for m in maps.values() for p in m.points if p.values is not None]
    pt = data.draw(st.sampled_from(mapped))
    assert pt.values is not None
    value = data.draw(st.sampled_from(list(pt.values.values())))
    assert decode(pt, encode(pt, value)) == value


@bounded(200)
@given(st.integers(0, 0xFFFF), st.dictionaries(st.text(string.ascii_lowercase, min_size=1,
       max_size=6), st.integers(0, 15), max_size=16))  # fmt: skip
def test_bit_fields_split_every_bit(word: int, bits: dict[str, int]) -> None:
    pt = point("u16", bits=bits)
    flags = split_bits(pt, word)
    assert flags == {name: bool(word >> bit & 1) for name, bit in bits.items()}


PRINTABLE = st.text(string.ascii_letters + string.digits + string.punctuation + " ")


@bounded(300)
@given(st.sampled_from(("str1", "str2")), st.integers(1, 60), PRINTABLE)
def test_strings_round_trip(kind: str, count: int, text: str) -> None:
    """What fits is read back as written (trimmed); what does not fit is refused."""
    pt = point(kind, count=count)
    width = count if kind == "str1" else count * 2
    if len(text) > width:
        with pytest.raises(ValueError, match="longer than"):
            encode(pt, text)
        return
    words = encode(pt, text)
    assert len(words) == count and all(0 <= w <= 0xFFFF for w in words)
    assert decode(pt, words) == text.strip()


@bounded(200)
@given(st.integers(1, 60), st.data())
def test_hex_bytes_round_trip(count: int, data: st.DataObject) -> None:
    pt = point("hex_bytes", count=count)
    raw = data.draw(st.binary(min_size=count * 2, max_size=count * 2))
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    text = decode(pt, words)
    assert bytes.fromhex(text) == raw
    assert encode(pt, text) == words


@bounded(200)
@given(st.integers(0, 0xFFFF))
def test_hex_versions_round_trip(word: int) -> None:
    """0x108 reads "1.0.8" (one hex digit a part) and writes back as 0x108."""
    pt = point("hex_version")
    text = decode(pt, [word])
    assert text == ".".join(f"{word:x}")
    assert encode(pt, text) == [word]


@bounded(200)
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_major_minor_patch_versions_round_trip(major: int, minor: int, patch: int) -> None:
    pt = point("version_mmp")
    text = f"{major}.{minor}.{patch}"
    words = encode(pt, text)
    assert words == [patch << 8, (major << 8) | minor]
    assert decode(pt, words) == text


@bounded(200)
@given(st.integers(0, 0xFFFF))
def test_byte_pairs_round_trip(word: int) -> None:
    """High byte and low byte, two small numbers: 0x0D01 reads "13.1"."""
    pt = point("byte_pair")
    text = decode(pt, [word])
    assert text == f"{word >> 8}.{word & 0xFF}"
    assert encode(pt, text) == [word]


@bounded(200)
@given(st.sampled_from(("u32", "s32")), st.sampled_from(SCALES), st.data())
def test_low_word_first_is_the_same_number_with_its_words_swapped(
    kind: str, scale: float, data: st.DataObject
) -> None:
    low, high = raw_range(kind)
    raw = data.draw(st.integers(low, high))
    words = encode_int(point(kind, scale=scale), raw)
    swapped = point(f"{kind}_low_first", scale=scale)
    assert encode_int(swapped, raw) == words[::-1]
    assert decode(swapped, words[::-1]) == decode(point(kind, scale=scale), words)


@bounded(300)
@given(
    st.sampled_from(("f32", "f32_low_first")),
    st.sampled_from((1, 0.1, 0.001, 1000)),
    st.floats(width=32, allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
)
def test_floats_round_trip_to_six_decimals(kind: str, scale: float, number: float) -> None:
    """A single-precision register read back is what was written, to the decoder's 6 decimals."""
    pt = point(kind, scale=scale)
    words = encode(pt, number * scale)
    assert len(words) == 2 and all(0 <= w <= 0xFFFF for w in words)
    value = decode(pt, words)
    assert isinstance(value, float)
    assert math.isclose(value, number * scale, rel_tol=1e-6, abs_tol=1e-6)
    high_first = words if kind == "f32" else words[::-1]
    assert decode(point("f32", scale=scale), high_first) == value


@bounded(100)
@given(st.sampled_from(("f32", "f32_low_first")), st.integers(0, 0x7FFFFF), st.booleans())
def test_float_nan_is_no_value(kind: str, mantissa: int, negative: bool) -> None:
    bits = (1 << 31 if negative else 0) | 0x7F800000 | max(mantissa, 1)
    words = [bits >> 16, bits & 0xFFFF]
    assert decode(point(kind), words if kind == "f32" else words[::-1]) is None


def test_every_register_type_is_covered() -> None:
    """A type added to the maps' vocabulary gets a round trip above."""
    covered = {*NUMERIC, "str1", "str2", "hex_bytes", "hex_version", "version_mmp", "byte_pair"}
    covered |= {"f32", "f32_low_first"}
    assert set(TYPE_WIDTH) == covered


# ====================================================================== planner


Layout = tuple[list[Point], list[Point], list[SafeRange]]


@st.composite
def layouts(draw: st.DrawFn) -> Layout:
    """Points on both tables with random gaps; some wanted, some only documented
    (they make the addresses under them readable), some write-only; random safe ranges."""
    documented: list[Point] = []
    wanted: list[Point] = []
    safe: list[SafeRange] = []
    for table in (Table.INPUT, Table.HOLDING):
        address = draw(st.integers(0, 300))
        for i in range(draw(st.integers(0, 14))):
            address += draw(st.sampled_from((0, 0, 1, 2, 5, 20, 60, 130)))
            count = draw(st.sampled_from((1, 1, 2, 2, 4, 10, 32, 60, 125)))
            role = draw(st.sampled_from(("wanted", "wanted", "documented", "write_only")))
            pt = Point(
                key=f"{table}_{i}",
                address=address,
                table=table,
                type="u16" if count == 1 else "str2",
                count=count,
                access="w" if role == "write_only" else "r",
            )
            documented.append(pt)
            if role == "wanted":
                wanted.append(pt)
            address += count
        for _ in range(draw(st.integers(0, 3))):
            start = draw(st.integers(0, max(address, 1)))
            end = start + draw(st.integers(0, 80))
            safe.append(SafeRange(table=table, start=start, end=end, why="generated"))
    return documented, wanted, safe


@bounded(500)
@given(layouts())
def test_plans_reach_the_lower_bound(layout: Layout) -> None:
    """Fewest requests (the exact bound), each point read once, nothing unserved bridged."""
    documented, wanted, safe = layout
    readable = Readable(documented, safe)
    blocks = plan(wanted, readable)
    assert len(blocks) == lower_bound(wanted, readable)
    read = [p for block in blocks for p in block.points]
    assert sorted(p.id for p in read) == sorted(p.id for p in wanted)
    for block in blocks:
        assert 1 <= block.count <= MAX_READ_REGISTERS
        assert all(p.table is block.table for p in block.points)
        assert all(block.address <= p.address and p.end <= block.end for p in block.points)
        covered = {a for p in block.points for a in range(p.address, p.end)}
        gaps = [a for a in range(block.address, block.end) if a not in covered]
        assert all(readable.gap_ok(block.table, a, a + 1) for a in gaps)
        words = list(range(block.count))
        assert all(len(block.words(words, p)) == p.count for p in block.points)


@bounded(200)
@given(layouts(), st.data())
def test_forgotten_addresses_are_never_bridged_again(layout: Layout, data: st.DataObject) -> None:
    """After the box refused some addresses, no block spans them (unless a point is there)."""
    documented, wanted, safe = layout
    readable = Readable(documented, safe)
    table = data.draw(st.sampled_from((Table.INPUT, Table.HOLDING)))
    start = data.draw(st.integers(0, 2000))
    refused = range(start, start + data.draw(st.integers(1, 50)))
    readable.forget(table, refused)
    for block in plan(wanted, readable):
        if block.table is not table:
            continue
        covered = {a for p in block.points for a in range(p.address, p.end)}
        assert not [a for a in refused if block.address <= a < block.end and a not in covered]


# ====================================================================== controls

# Edges of every control's range, fractions of a step, and far beyond.
EDGES = (0, 0.0, -0.0, -1, 0.001, 0.5, 1, 4, 5, 5.9, 5.99, 6, 6.05, 6.1, 9.5, 10, 15.99,
         16, 16.04, 16.1, 20, 22, 31.9, 32, 32.1, 32.5, 33, 60, 65.535, 65.536, 100, 1380,
         1400, 3600, 3601, 4200, 6900, 22000, 22050, 22100, 44000, 44100, 65535, 65536,
         1e308)  # fmt: skip
# What a user (or an automation) may hand a control: anything.
ODD_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.sampled_from(EDGES),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)
MODEL_IDS = sorted(MODELS)


def controls(rig: Rig) -> list[tuple[str, int | None, str | None]]:
    """Every control of a box: (kind, connector, setting key)."""
    charger = rig.charger
    found: list[tuple[str, int | None, str | None]] = []
    for connector, limit in charger.limits.items():
        found += [("limit", connector, None), ("pause", connector, None)]
        found += [("resume", connector, None)]
        if limit.is_power:
            found.append(("power", connector, None))
    found += [("setting", s.connector, s.key) for s in charger.settings.values()]
    if charger.phase_switch is not None:
        found.append(("phases", None, None))
    if charger.remote_lock is not None:
        found.append(("lock", None, None))
    return found


def action(rig: Rig, kind: str, connector: int | None, key: str | None, value: Any) -> Any:
    charger = rig.charger
    if kind == "limit":
        return lambda: charger.set_charging_current(value, connector)
    if kind == "power":
        return lambda: charger.set_limit_power(value, connector)
    if kind == "pause":
        return lambda: charger.pause(connector)
    if kind == "resume":
        return lambda: charger.resume(connector)
    if kind == "setting":
        assert key is not None
        return lambda: charger.write_setting(key, value, connector)
    if kind == "phases":
        return lambda: charger.set_phases(value)
    return lambda: charger.set_remote_lock(bool(value))


# Errors a control may answer with: the value is refused, or the box is busy.
REFUSALS = {None, "InvalidValueError", "BusyError"}


@pytest.mark.parametrize("model", MODEL_IDS)
def test_no_invalid_value_reaches_the_transport(model: str) -> None:
    """Whatever a control is given, the transport sends only values the map allows
    (with the maxima the box reports now), and the box refuses nothing."""
    loop = asyncio.new_event_loop()
    rig = loop.run_until_complete(Rig.start(model))
    kinds = controls(rig)

    @bounded(120)
    @given(
        control=st.sampled_from(kinds),
        value=ODD_VALUES,
        seconds=st.sampled_from((0.0, 0.5, 3.0, 21.0)),
    )
    def check(control: tuple[str, int | None, str | None], value: Any, seconds: float) -> None:
        kind, connector, key = control
        outcome = loop.run_until_complete(rig.command(action(rig, kind, connector, key, value)))
        assert outcome in REFUSALS, f"{kind} {key or ''} {value!r}: {outcome}"
        loop.run_until_complete(rig.advance(seconds))
        assert rig.bad_writes() == []

    try:
        check()
        assert rig.errors == []
    finally:
        loop.run_until_complete(rig.stop())
        loop.close()


# ====================================================================== command sequences


def usual_values(rig: Rig, kind: str, connector: int | None, key: str | None) -> list[Any]:
    """Values a user would try for a control: its bounds, a few inside, a step off."""
    charger = rig.charger
    values = dict(charger.values)
    if kind in ("limit", "power"):
        limit = charger.limits[connector]
        if kind == "limit":
            low, high = limit.range(values)
            return [0, low, (low + high) / 2, high, round(low + 0.1, 1), 10, 16]
        setting = charger.reader.find(limit.point.key, connector)
        assert setting is not None
        low_w, high_w = 0.0, float(limit.point.scale * 220)
        return [0, 1400, 4200, 6900, 11000, high_w, (low_w + high_w) / 2]
    if kind == "setting":
        assert key is not None
        setting = charger.setting(key, connector)
        low, high = setting.range(values)
        step = setting.step
        picks = [low, high, low + step, high - step, (low + high) / 2]
        if setting.point.unit == "s":
            picks += [0, 4, 5, 6, 10, 15, 19, 20, 60, 1051]
        return picks
    if kind == "phases":
        return [1, 3, "1", "3"]
    return [True, False]


@st.composite
def sequences(draw: st.DrawFn, rig_kinds: list[tuple[str, int | None, str | None]],
              usual: dict[tuple[str, int | None, str | None], list[Any]],
              reboots: bool, cars: list[int]) -> list[tuple[Any, ...]]:  # fmt: skip
    """A list of steps: commands (mostly usual values, sometimes odd ones), waits, bursts,
    reconnects, changes made at the box, a car leaving and coming, a reboot."""

    def command() -> tuple[Any, ...]:
        control = draw(st.sampled_from(rig_kinds))
        value = draw(st.one_of(st.sampled_from(usual[control]), ODD_VALUES))
        return ("command", control, value)

    kinds = ["command"] * 6 + ["wait"] * 3 + ["burst", "drop", "box_limit", "unplug", "plug",
                                             "box_timeout"]  # fmt: skip
    if reboots:
        kinds.append("reboot")
    steps: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(kinds))
        if kind == "command":
            steps.append(command())
        elif kind == "wait":
            steps.append(("wait", draw(st.sampled_from((0.2, 1.0, 4.0, 11.0, 21.0, 95.0, 310.0)))))
        elif kind == "burst":
            steps.append(("burst", tuple(command() for _ in range(draw(st.integers(2, 5))))))
        elif kind == "box_limit":
            steps.append(("box_limit", draw(st.sampled_from((0, 6, 8, 10, 13, 16)))))
        elif kind == "box_timeout":
            steps.append(("box_timeout", draw(st.sampled_from((0.5, 2.0, 4.0)))))
        elif kind == "unplug":
            steps.append((kind, draw(st.sampled_from(cars))))
        elif kind == "plug":
            steps.append((kind, draw(st.sampled_from(cars)), draw(st.sampled_from((3, 1)))))
        else:
            steps.append((kind,))
    return steps


async def box_writes(rig: Rig, key: str, raw: int, connector: int | None = None) -> None:
    """Someone else changes a register at the box (an app, the box's web page)."""
    point_id = key if connector is None else f"{key}@{connector}"
    if not rig.sim.bank.has(point_id):
        return
    pt = rig.sim.bank.points[point_id]
    if pt.write is not None and pt.write.allows(raw):
        rig.sim.bank.write(pt.address, [raw])


async def play(rig: Rig, step: tuple[Any, ...]) -> None:
    """One step of a sequence."""
    kind = step[0]
    if kind == "command":
        (control_kind, connector, key), value = step[1], step[2]
        outcome = await rig.command(action(rig, control_kind, connector, key, value))
        assert outcome in REFUSALS, f"{step}: {outcome}"
    elif kind == "wait":
        await rig.advance(step[1])
    elif kind == "burst":
        actions = [action(rig, *s[1], s[2]) for s in step[1]]
        results = await rig.concurrently(rig.poll, *actions)
        for result in results[1:]:
            assert result is None or type(result).__name__ in REFUSALS, f"{step}: {result!r}"
        await rig.after_write()
    elif kind == "drop":
        rig.sim.drop_connections()
    elif kind == "box_limit":
        limit = next(iter(rig.charger.limits.values()))
        amps = float(step[1])
        raw = limit.spec.pause if amps == 0 else limit.raw_for(amps)
        await box_writes(rig, limit.point.key, raw, limit.connector)
    elif kind == "box_timeout":
        # Someone makes the box's timeout longer; or shorter, seen by the next poll at once.
        keepalive = rig.charger.keepalive
        timeout = rig.sim.keepalive_timeout()
        if keepalive is None or keepalive.spec.timeout_point is None or timeout is None:
            return
        pt = rig.charger.reader.find(keepalive.spec.timeout_point)
        assert pt is not None
        new = timeout * step[1]
        await box_writes(rig, pt.key, round(new / pt.scale))
        if new < timeout:
            await rig.poll(slow=True)
    elif kind == "unplug":
        if rig.sim.cars[step[1]].plugged:
            rig.sim.unplug(step[1])
    elif kind == "plug":  # (another) car, on three phases or on one phase only
        if rig.sim.cars[step[1]].plugged:
            rig.sim.unplug(step[1])
        rig.sim.plug(step[1], phases=step[2])
    elif kind == "reboot":
        reboot = getattr(rig.sim, "reboot", None)
        if reboot is not None:
            reboot()


@pytest.mark.parametrize("model", MODEL_IDS)
def test_random_sequences_keep_every_invariant(model: str) -> None:
    """Random commands, waits, bursts, reconnects and changes at the box, on every model:
    no write outside the valid values, the keepalive due in time and never lapsing, and
    after a quiet period the snapshot (values and wishes) equal to the box."""
    loop = asyncio.new_event_loop()
    probe = loop.run_until_complete(Rig.start(model))
    kinds = controls(probe)
    usual = {control: usual_values(probe, *control) for control in kinds}
    loop.run_until_complete(probe.stop())
    reboots = hasattr(probe.sim, "reboot")
    cars = sorted(probe.sim.cars)

    @bounded(25)
    @given(steps=sequences(kinds, usual, reboots, cars))
    def check(steps: list[tuple[Any, ...]]) -> None:
        rig = loop.run_until_complete(Rig.start(model))
        changes_at_the_box = 0
        try:
            for i, step in enumerate(steps):
                errors = len(rig.errors)
                loop.run_until_complete(play(rig, step))
                changes_at_the_box += step[0] == "box_limit"
                # a wish changes by a command, or by taking over a change made at the box
                assert rig.charger.reconciler.adopted <= changes_at_the_box, (
                    f"after step {i} {step}: {rig.charger.desired.copy()}"
                )
                assert rig.bad_writes() == [], f"after step {i} {step}"
                if len(rig.errors) == errors and step[0] not in ("drop", "reboot"):
                    assert rig.keepalive_late() is None, f"after step {i} {step}"
                assert rig.lapses == [], f"after step {i} {step}: {rig.sim.events}"
            assert loop.run_until_complete(rig.quiet()) == []
            assert rig.lapses == [], rig.sim.events
        finally:
            loop.run_until_complete(rig.stop())

    try:
        check()
    finally:
        loop.close()
