"""RFID of the Amperfied connect series: commands, toggles and the card event, over TCP.

The map says it as data (``commands``, ``toggles``, ``events``); the charger
builds generic capabilities from it.  Nothing RFID-related is written unless
asked.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger import Command, InvalidValueError, RegisterMapError
from custom_components.wallbox_modbus.charger.registers import MAPS_DIR, parse_map
from simulators.amperfied import AmperfiedSimulator

from .test_families import Factory, FakeClock, make, writes

__all__ = ["make"]  # the fixture, used by name

RFID_REGISTERS = (300, 301, 302)
HOME_200: dict[str, Any] = {"layout": (2, 0, 0)}


def rfid_writes(sim: AmperfiedSimulator) -> list[tuple[int, list[int]]]:
    return [(start, values) for start, values in writes(sim) if start in RFID_REGISTERS]


async def home(make: Factory) -> tuple[AmperfiedSimulator, Any]:
    sim, charger = await make("amperfied_home", sim_kwargs=HOME_200)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.refresh(slow=True)
    return sim, charger


@pytest.mark.parametrize(
    ("model", "sim_kwargs", "has_rfid"),
    [
        ("amperfied_home", {}, False),  # layout 1.0.8: no RFID registers
        ("amperfied_home", HOME_200, True),
        ("amperfied_business", {}, True),
        ("amperfied_solar", {}, True),
        ("vestel_evc04", {}, False),
        ("compleo_duo", {}, False),
    ],
)
async def test_rfid_capabilities_follow_the_layout(
    make: Factory, model: str, sim_kwargs: dict[str, Any], has_rfid: bool
) -> None:
    _, charger = await make(model, sim_kwargs=sim_kwargs)
    commands = {"rfid_teach_start", "rfid_teach_cancel", "rfid_card_accept", "rfid_card_reject",
                "rfid_card_allow"}  # fmt: skip
    toggles = {"rfid_whitelist_enabled", "rfid_card_security_enabled",
               "rfid_authentication_enabled"}  # fmt: skip
    assert set(charger.commands) == (commands if has_rfid else set())
    assert set(charger.toggles) == (toggles if has_rfid else set())
    assert [w.key for w in charger.watches] == (["rfid"] if has_rfid else [])
    capabilities = charger.diagnostics()["capabilities"]
    assert set(capabilities["commands"]) == set(charger.commands)
    assert set(capabilities["toggles"]) == set(charger.toggles)


@pytest.mark.parametrize(
    ("toggle", "bit", "on", "off"),
    [
        ("rfid_whitelist_enabled", "rfid_whitelist", 0x1001, 0x1000),
        ("rfid_card_security_enabled", "rfid_card_security", 0x1003, 0x1002),
        ("rfid_authentication_enabled", "rfid_authentication", 0x1005, 0x1004),
    ],
)
async def test_toggle_writes_its_command_and_reads_its_bit(
    make: Factory, toggle: str, bit: str, on: int, off: int
) -> None:
    sim, charger = await home(make)
    snap = await charger.refresh(slow=True)
    assert charger.toggles[toggle].is_on(snap) is False
    await charger.set_toggle(toggle, True)
    assert rfid_writes(sim) == [(300, [on])]
    snap = await charger.refresh(slow=True)
    assert snap.get(bit) is True
    assert charger.toggles[toggle].is_on(snap) is True
    others = {"rfid_whitelist", "rfid_card_security", "rfid_authentication"} - {bit}
    assert not any(snap.get(other) for other in others)
    await charger.set_toggle(toggle, False)
    assert rfid_writes(sim) == [(300, [on]), (300, [off])]
    assert charger.toggles[toggle].is_on(await charger.refresh(slow=True)) is False


@pytest.mark.parametrize(
    ("command", "address", "raw"),
    [
        ("rfid_teach_start", 301, 0x2002),
        ("rfid_teach_cancel", 301, 0x2003),
        ("rfid_card_accept", 301, 0x2004),
        ("rfid_card_reject", 301, 0x2008),
        ("rfid_card_allow", 302, 0x3001),
    ],
)
async def test_command_writes_its_value(
    make: Factory, command: str, address: int, raw: int
) -> None:
    sim, charger = await home(make)
    await charger.send_command(command)
    assert rfid_writes(sim) == [(address, [raw])]


async def test_unknown_command_or_toggle_writes_nothing(make: Factory) -> None:
    sim, charger = await make("amperfied_home")  # layout 1.0.8: no RFID
    with pytest.raises(InvalidValueError):
        await charger.send_command("rfid_teach_start")
    with pytest.raises(InvalidValueError):
        await charger.set_toggle("rfid_authentication_enabled", True)
    assert writes(sim) == []


async def test_nothing_rfid_is_written_unless_asked(make: Factory) -> None:
    """Identify, refreshes, a reboot the reconciler repairs: 300-302 are never written."""
    clock = FakeClock()
    sim, charger = await make("amperfied_home", clock=clock, sim_kwargs=HOME_200)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    sim.present_card("01020304")
    clock.tick(30)
    sim.reboot()
    await asyncio.sleep(0.05)  # the dropped socket is seen closed
    for _ in range(3):
        await charger.refresh(slow=True)
        clock.tick(10)
    assert writes(sim, 261) == [100, 100]  # the limit was written again after the reboot ...
    assert rfid_writes(sim) == []  # ... but no RFID command


async def test_teaching_learns_the_next_card(make: Factory) -> None:
    sim, charger = await home(make)
    await charger.send_command("rfid_teach_start")
    assert sim.teaching
    assert sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156") == "taught"
    assert not sim.teaching
    await charger.set_toggle("rfid_whitelist_enabled", True)
    assert sim.present_card("044962FABA1090") == "accepted"
    assert sim.present_card("11 22 33 44") == "refused"
    await charger.send_command("rfid_teach_start")
    await charger.send_command("rfid_teach_cancel")
    assert not sim.teaching


async def test_card_event_carries_who_charges(make: Factory) -> None:
    """The first reading is the baseline; a new card or a new count is announced once."""
    sim, charger = await home(make)
    assert (await charger.refresh()).events == ()
    sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156", secure=True)
    events = (await charger.refresh()).events
    assert len(events) == 1
    assert events[0].key == "rfid"
    assert events[0].connector is None
    assert events[0].data == {
        "card_counter": 1,
        "uid": "04 49 62 FA BA 10 90",
        "card_number": "00040550791897041156",
        "security_type": "secure_card",
        "permission": "none",  # the register is only used with the whitelist on
    }
    assert (await charger.refresh()).events == ()  # nothing new
    assert charger.snapshot().events == ()  # a snapshot after a write announces nothing
    sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156", secure=True)
    (again,) = (await charger.refresh()).events  # the same card, counted again
    assert again.data["card_counter"] == 2


async def test_card_seen_while_the_box_was_away_is_announced_on_return(
    make: Factory,
) -> None:
    sim, charger = await home(make)
    await charger.refresh()
    sim.server.faults.exception = 4
    sim.present_card("0A0B0C0D", "CARD-2")
    assert (await charger.refresh()).events == ()  # nothing read: nothing to compare
    sim.server.faults.exception = None
    (event,) = (await charger.refresh()).events
    assert event.data["uid"] == "0A 0B 0C 0D"


async def test_authentication_lets_the_controller_decide(make: Factory) -> None:
    """With authentication on, a card waits; accepting it lets the car charge."""
    sim, charger = await home(make)
    sim.plug(1)
    await charger.set_toggle("rfid_authentication_enabled", True)
    snap = await charger.refresh(slow=True)
    assert snap.get("charging") is False
    assert snap.get("ready_for_charging") is False
    assert sim.present_card("04 49 62 FA BA 10 90", "1234") == "waiting"
    (event,) = (await charger.refresh()).events
    assert event.data["permission"] == "none"
    await charger.send_command("rfid_card_accept")
    snap = await charger.refresh(slow=True)
    assert snap.get("charging") is True
    assert snap.get("ready_for_charging") is True
    assert snap.get("charging_permission") == "modbus"
    (counted,) = snap.events  # the accepted card is counted
    assert counted.data["card_counter"] == 1
    assert counted.data["permission"] == "modbus"
    sim.unplug(1)
    sim.plug(1)
    assert sim.present_card("04 49 62 FA BA 10 91", "5678") == "waiting"
    await charger.send_command("rfid_card_reject")
    snap = await charger.refresh()
    assert snap.get("charging") is False
    assert snap.get("rfid_card_counter") == 1


async def test_card_security_refuses_a_card_that_is_not_secure(make: Factory) -> None:
    sim, charger = await home(make)
    await charger.set_toggle("rfid_card_security_enabled", True)
    assert sim.present_card("01020304") == "refused"
    assert sim.present_card("01020305", secure=True) == "accepted"


async def test_allow_card_admits_the_current_card(make: Factory) -> None:
    sim, charger = await home(make)
    await charger.set_toggle("rfid_whitelist_enabled", True)
    assert sim.present_card("0A0B0C0D") == "refused"
    await charger.send_command("rfid_card_allow")
    assert sim.present_card("0A0B0C0D") == "accepted"


# ---------------------------------------------------------------- the map's sections


def raw_map() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MAPS_DIR / "amperfied_connect.json").read_text())
    return data


@pytest.mark.parametrize(
    ("mutate", "where", "code", "message"),
    [
        (lambda d: d["commands"]["rfid_teach_start"].update(value="teach_maybe"),
         "command `rfid_teach_start`", "not_a_command",
         "`value` 'teach_maybe' is not a value that point `rfid_control` takes"),
        (lambda d: d["commands"]["rfid_teach_start"].update(value=0x2005),
         "command `rfid_teach_start`", "not_a_command", "8197 is not a value"),
        (lambda d: d["commands"]["rfid_teach_start"].update(point="rfid_status"),
         "command `rfid_teach_start`", "not_writable", "`rfid_status`, which is not writable"),
        (lambda d: d["toggles"]["rfid_whitelist_enabled"].update(on="teach_start"),
         "toggle `rfid_whitelist_enabled`", "not_a_command", "`on` 'teach_start'"),
        (lambda d: d["toggles"]["rfid_whitelist_enabled"].update(state="rfid_nothing"),
         "toggle `rfid_whitelist_enabled`", "unknown_point", "`rfid_nothing`"),
        (lambda d: d["events"]["rfid"].update(when=[]), "event `rfid`", "missing",
         "`when` is missing"),
        (lambda d: d["events"]["rfid"]["data"].update(colour="rfid_colour"), "event `rfid`",
         "unknown_point", "`data.colour` names point `rfid_colour`"),
    ],
)  # fmt: skip
def test_malformed_rfid_sections_name_the_place(
    mutate: Any, where: str, code: str, message: str
) -> None:
    data = copy.deepcopy(raw_map())
    mutate(data)
    with pytest.raises(RegisterMapError) as err:
        parse_map(data, Path("amperfied_connect.json"))
    assert (err.value.where, err.value.code) == (where, code)
    assert message in str(err.value)


async def test_a_command_may_be_given_as_a_raw_number(make: Factory) -> None:
    """A user map may write the number instead of the point's name for it."""
    data = raw_map()
    data["commands"]["rfid_teach_start"]["value"] = 0x2002
    regmap = parse_map(data, Path("my_amperfied.json"))
    assert regmap.behaviour.commands[0].value == 0x2002
    sim, charger = await home(make)
    command = Command(regmap.behaviour.commands[0], charger.point("rfid_control"), charger.reader)
    await command.send()
    assert rfid_writes(sim) == [(301, [0x2002])]
