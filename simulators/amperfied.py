"""Simulated Amperfied connect.home / .business / .solar.

- One TCP connection at a time; a second is closed at once.
- Layout version per variant (home 1.0.8, business 2.0.0, solar 2.0.1);
  registers the layout or variant lacks answer exception 2.
- Watchdog (257, ms): without a successful transaction for that long the box
  enters time-out mode and charges at the failsafe current (262) until the
  master writes the maximal current (261) again.
- A reboot (power cycle) drops every connection; 261 is back at its
  documented default 0 (no charging), the energy since power on starts from
  0, and the phase switch is back in three-phase mode.
- 261 in 0.1 A: 0 or 60–160 (1–59 would be 0; the map refuses them).
- Phase switch (solar): after a write to 501, 5001 reads 0 for a few seconds,
  then the new phase count; further switches are ignored for 90 s.  After a
  reboot the box is back in three-phase mode.
- RFID (layout >= 2.0.0).  The document lists the registers but no sequence;
  this is the simulator's reading of them:
  - a card held to the reader (``present_card``) becomes the current card
    (2001-2018: UID length, UID, card number, security type);
  - while teaching (301 = 0x2002, until 0x2003 or the next card) the card is
    learnt into the internal whitelist, and teaching ends;
  - with card security on (bit 1 of 2100) a card that is not secure is
    refused; with authentication on (bit 2) the card waits for the Modbus
    controller: 301 = 0x2004 accepts it (charging permission "via Modbus"),
    0x2008 refuses it; with the whitelist on (bit 0) a card on the whitelist
    is accepted ("via RFID") and any other refused; with none of them on every
    card is accepted;
  - an accepted card counts (2000 + 1), makes the box ready for charging
    (2020 = 1) and lets the car charge until it is unplugged; with the
    whitelist or authentication on, nothing charges without one;
  - 302 = 0x3001 admits the current card into the whitelist;
  - 300 = 0x1000-0x1005 switch the bits of 2100; reads of 300-302 are refused
    (the box would return 0x0000; nothing needs to read them).
"""

from __future__ import annotations

from typing import Any

from custom_components.wallbox_modbus.charger.registers import Point

from .base import NOMINAL_VOLTAGE, WallboxSimulator

SWITCH_SECONDS = 5.0
SWITCH_BLOCK = 90.0

# [300] commands: value -> (bit of 2100, on)
RFID_CONFIGURATION = {
    0x1000: (0, False),
    0x1001: (0, True),
    0x1002: (1, False),
    0x1003: (1, True),
    0x1004: (2, False),
    0x1005: (2, True),
}
WHITELIST, CARD_SECURITY, AUTHENTICATION = 0, 1, 2
TEACH_START, TEACH_CANCEL, CARD_ACCEPTED, CARD_REJECTED = 0x2002, 0x2003, 0x2004, 0x2008
ALLOW_CARD = 0x3001


def _uid(uid: str) -> str:
    """A UID as the reader shows it: hex bytes, upper case, separated by spaces."""
    return bytes.fromhex(uid).hex(" ").upper()


class AmperfiedSimulator(WallboxSimulator):
    def __init__(self, *, mid: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mid = self.variant == "business" if mid is None else mid
        self.energy_since_power_on_wh = 0.0
        self.reboots = 0
        self.timeout_mode = False
        self.timeout_events = 0
        self.phases_active = 3
        self._switch_done: float | None = None
        self._switch_target = 3
        self._switch_blocked_until = 0.0
        self.rfid_flags = 0  # 2100
        self.whitelist: set[str] = set()
        self.teaching = False
        self.waiting: str | None = None  # the card the Modbus controller is to decide on
        self.authorized = False  # an accepted card lets the car charge until it leaves
        self.card: str | None = None  # UID of the current card

    def setup(self) -> None:
        bank = self.bank
        layout = self.layout or (1, 0, 8)
        bank.set("layout_version", ".".join(str(p) for p in layout))
        bank.set("temperature", 25.0)
        bank.set("hw_max_current", 16)
        bank.set("hw_min_current", 6)
        bank.set("software_revision", 23)
        bank.set("external_lock", "unlocked")
        bank.set("watchdog_timeout", 15.0)
        bank.set("remote_lock", "unlocked")
        bank.set("charging_current", 16.0)
        bank.set("failsafe_current", 6.0)
        if bank.has("serial_number"):
            bank.set("serial_number", f"AMP-{self.variant.upper()}-0001")
            bank.set("item_number", "00.779.2965")
            bank.set("production_date", "1723")
            bank.set("firmware", "V" + ".".join(str(p) for p in layout))
            bank.set("firmware_variant", "HDM")
            bank.set("mid_available", self.mid)
        if self.mid and bank.has("mid_serial_number"):
            bank.set("mid_serial_number", "553914896")
        if not self.mid:
            for key in [k for k in bank.points if k.startswith("mid_") and k != "mid_available"]:
                bank.remove(key)
        if bank.has("phase_switch"):
            bank.set("phase_switch", 3)
            bank.set("phase_switch_state", "3")
            bank.hooks["phase_switch"] = self._on_phase_switch
        bank.hooks["charging_current"] = self._on_limit
        if bank.has("rfid_status"):
            bank.hooks["rfid_configuration"] = self._on_rfid_configuration
            bank.hooks["rfid_control"] = self._on_rfid_control
            bank.hooks["rfid_admission"] = self._on_rfid_admission
            bank.set_raw("rfid_status", self.rfid_flags)

    # ------------------------------------------------------------ RFID

    def rfid(self, bit: int) -> bool:
        return bool(self.rfid_flags >> bit & 1)

    @property
    def rfid_restricted(self) -> bool:
        """Whether charging needs an accepted card (whitelist or authentication on)."""
        return self.rfid(WHITELIST) or self.rfid(AUTHENTICATION)

    def present_card(self, uid: str, number: str = "", *, secure: bool = False) -> str:
        """A card held to the reader; returns what the box did with it."""
        bank = self.bank
        uid = _uid(uid)
        self.card = uid
        bank.set("rfid_uid_length", len(uid.split()))
        bank.set("rfid_uid", uid)
        bank.set("rfid_card_number", number)
        bank.set("rfid_security_type", "secure_card" if secure else "no_secure_card")
        if self.teaching:
            self.teaching = False
            self.whitelist.add(uid)
            outcome = "taught"
        elif self.rfid(CARD_SECURITY) and not secure:
            outcome = self._refuse()
        elif self.rfid(AUTHENTICATION):
            self.waiting = uid
            outcome = "waiting"
        elif self.rfid(WHITELIST) and uid not in self.whitelist:
            outcome = self._refuse()
        else:
            outcome = self._accept("rfid" if self.rfid(WHITELIST) else "none")
        self.events.append(f"card {outcome}")
        self.update()
        return outcome

    def _accept(self, source: str) -> str:
        self.waiting = None
        self.authorized = True
        self.bank.set("rfid_card_counter", (self.bank.get("rfid_card_counter") + 1) & 0xFFFF)
        self.bank.set("charging_permission", source)
        return "accepted"

    def _refuse(self) -> str:
        self.waiting = None
        self.bank.set("charging_permission", "none")
        return "refused"

    def _on_rfid_configuration(self, _point: Point, raw: int) -> None:
        bit, on = RFID_CONFIGURATION[raw]
        self.rfid_flags = self.rfid_flags | 1 << bit if on else self.rfid_flags & ~(1 << bit)
        self.bank.set_raw("rfid_status", self.rfid_flags)
        self.events.append(f"rfid bit {bit} {'on' if on else 'off'}")
        self.update()

    def _on_rfid_control(self, _point: Point, raw: int) -> None:
        if raw in (TEACH_START, TEACH_CANCEL):
            self.teaching = raw == TEACH_START
            self.events.append("teaching on" if self.teaching else "teaching off")
        elif self.waiting is None:
            self.events.append("no card to decide on")
        elif raw == CARD_ACCEPTED:
            self.events.append(f"card {self._accept('modbus')} by the controller")
        else:
            self.events.append(f"card {self._refuse()} by the controller")
        self.update()

    def _on_rfid_admission(self, _point: Point, _raw: int) -> None:
        if self.card is not None:
            self.whitelist.add(self.card)
            self.events.append("card admitted")

    def on_unplug(self, connector: int) -> None:
        self.authorized = False
        if self.bank.has("charging_permission"):
            self.bank.set("charging_permission", "none")

    def _on_limit(self, _point: Point, _raw: int) -> None:
        if self.timeout_mode:
            self.timeout_mode = False
            self.events.append("timeout mode off")
        self.update()

    def _on_phase_switch(self, point: Point, raw: int) -> None:
        now = self.clock()
        if now < self._switch_blocked_until:
            self.bank.set("phase_switch", self._switch_target)  # ignored while blocked
            self.events.append("phase switch ignored")
            return
        self._switch_target = raw
        self._switch_done = now + SWITCH_SECONDS
        self._switch_blocked_until = now + SWITCH_BLOCK
        self.bank.set("phase_switch_state", "switching")
        self.events.append(f"phase switch to {raw}")

    def reboot(self) -> None:
        """Power cycle: 261 at its default 0, three phases, counters since power on reset."""
        self.update()
        self.reboots += 1
        self.events.append("reboot")
        if self.bank.has("phase_switch"):
            self.phases_active = self._switch_target = 3
            self._switch_done = None
            self._switch_blocked_until = 0.0
            self.bank.set("phase_switch", 3)
            self.bank.set("phase_switch_state", "3")
        self.bank.set_raw("charging_current", 0)
        self.timeout_mode = False
        self.energy_since_power_on_wh = 0.0
        self.sessions = {c: type(s)(started=s.started) for c, s in self.sessions.items()}
        self.drop_connections()
        self.update()

    def energy_counted(self, wh: float) -> None:
        self.energy_since_power_on_wh += wh

    def check_timers(self, now: float) -> None:
        if self._switch_done is not None and now >= self._switch_done:
            self._switch_done = None
            self.phases_active = self._switch_target
            self.bank.set("phase_switch_state", str(self._switch_target))
        watchdog = self.bank.get("watchdog_timeout")
        last = self.bank.last_transaction
        if watchdog and last is not None and not self.timeout_mode and now - last > watchdog:
            self.timeout_mode = True
            self.timeout_events += 1
            self.lapse(now, "timeout mode on")

    def keepalive_timeout(self) -> float | None:
        return float(self.bank.get("watchdog_timeout")) or None

    def last_keepalive(self) -> float | None:
        return self.bank.last_transaction

    def fallen_back(self) -> bool:
        return self.timeout_mode

    def limit(self, connector: int) -> float:
        if self.bank.get("remote_lock") == "locked" or self.bank.get("external_lock") == "locked":
            return 0.0
        if self.rfid_restricted and not self.authorized:
            return 0.0  # no card accepted yet
        if self._switch_done is not None:
            return 0.0  # no charging while the contactors switch
        raw = self.bank.raw("failsafe_current" if self.timeout_mode else "charging_current")
        return raw / 10 if raw >= 60 else 0.0

    def measured(self, connector: int) -> tuple[float, int, float]:
        amps, phases, _ = super().measured(connector)
        if amps and self.bank.has("phase_switch"):
            phases = min(phases, self.phases_active)
        return amps, phases, amps * NOMINAL_VOLTAGE * phases

    def publish(self) -> None:
        bank = self.bank
        car = self.cars[1]
        amps, phases, watts = self.measured(1)
        allowed = self.limit(1) >= 6
        locked = bank.get("remote_lock") == "locked" or bank.get("external_lock") == "locked"
        if locked:
            state = "F"
        elif not car.plugged:
            state = "A2" if allowed else "A1"
        elif amps:
            state = "C2"
        elif car.wants_charge:
            state = "C1" if not allowed else "B2"
        else:
            state = "B2" if allowed else "B1"
        bank.set("charging_state", state)
        for i, phase in enumerate(("l1", "l2", "l3"), start=1):
            bank.set(f"current_{phase}", amps if i <= phases else 0)
            bank.set(f"voltage_{phase}", self.voltage(i))
        bank.set("power", round(watts))
        if bank.has("ready_for_charging"):
            bank.set("ready_for_charging", allowed)  # a card, if needed, and a limit
        total_vah = round(self.energy_total_wh)
        bank.set("energy_total", total_vah / 1000)
        bank.set("energy_since_power_on", round(self.energy_since_power_on_wh) / 1000)
        if bank.has("energy_session"):
            bank.set("energy_session", round(self.sessions[1].energy_wh) / 1000)
        if bank.has("mid_energy_total"):
            bank.set("mid_energy_total", total_vah / 1000)
            for i, phase in enumerate(("l1", "l2", "l3"), start=1):
                bank.set(f"mid_current_{phase}", amps if i <= phases else 0)
                bank.set(f"mid_voltage_{phase}", self.voltage(i))
            bank.set("mid_power", round(watts))
