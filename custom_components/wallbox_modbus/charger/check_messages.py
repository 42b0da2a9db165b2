"""The texts of a verification run's findings, by code.

Home Assistant has the contradicted ones translated under the same codes (and
raises a repair issue for each code in ``CONTRADICTION_CODES``).
"""

from __future__ import annotations

from collections.abc import Mapping

# English texts of the findings, by code; Home Assistant has the contradicted ones
# translated under the same codes.  Placeholders: seen, expected and the code's own.
VERIFY_MESSAGES: Mapping[str, str] = {
    # confirmed
    "documented_value": "read only documented values: {seen}",
    "documented_bits": "set only documented bits: {seen}",
    "printable": "decodes to printable text: {seen}",
    "layout_ok": "layout {seen} is one the model has ({expected})",
    "connectors_ok": "{seen} connector(s), as the model has",
    "in_range": "read {seen}, within {expected}",
    "current_ok": "read {seen} with a limit of {expected}",
    "power_ok": "read {seen}; the sum of voltage x current gives {expected}",
    "energy_ok": "rose {seen} while the power read gives {expected}",
    "energy_rose": "rose {seen} and never went down",
    "duration_ok": "rose {seen} in {expected} of charging",
    "setting_ok": "holds {seen}, which the map allows ({expected})",
    "clock_ok": "the box's clock is {seconds} s off the host's and runs with it",
    "keepalive_ok": "no sign of a fallback in {seconds} s with a timeout of {timeout} s",
    "readback_ok": "wrote {written}, read back {seen}, restored {restored}",
    # contradicted
    "undocumented_value": "read raw {raw}, which the map does not document ({expected})",
    "undocumented_bits": "set bits {bits} the map does not document ({expected})",
    "not_printable": "does not decode to printable text",
    "layout_mismatch": "layout {seen} is not one the model has ({expected})",
    "connectors_mismatch": "{seen} connector(s), the model has {expected}",
    "out_of_range": "read {seen}, outside {expected}",
    "too_large": "looks {factor}x too large for this firmware: {seen} where {expected} fits",
    "too_small": "looks {factor}x too small for this firmware: {seen} where {expected} fits",
    "swapped": (
        "the two words look swapped (sent in the other order than the map says): "
        "{seen} where {expected} fits"
    ),
    "no_voltage": "phase {phase} carries {current} but reads 0 V",
    "wrong_phase": (
        "phase {phase} carries {current} but reads 0 V, while {other} reads {voltage} "
        "without current: the voltages look to be on the wrong phases"
    ),
    "above_limit": "read {seen} with a limit of {expected}",
    "power_mismatch": "read {seen}; the sum of voltage x current gives {expected}",
    "energy_mismatch": "rose {seen} while the power read gives {expected}",
    "energy_without_power": "rose {seen} while no power flowed",
    "decreased": "went down from {seen} to {expected}",
    "duration_mismatch": "rose {seen} in {expected} of charging",
    "setting_invalid": "holds {seen}, which the map does not allow ({expected})",
    "clock_offset": (
        "the box's clock is {hours} h off the host's ({seen} vs {expected}): "
        "its time zone or daylight saving time differs"
    ),
    "clock_off": "the box's clock is {seconds} s off the host's ({seen} vs {expected})",
    "clock_stopped": "the box's clock moved {seen} while the host's moved {expected}",
    "clock_invalid": "does not decode to a date and time (read {seen})",
    "reconnected": "the connection was lost and opened again {count} time(s) during the run",
    "reapplied": "settings had to be applied again {count} time(s) during the run: {reason}",
    "lapsed": "the box went longer than its timeout of {timeout} s without a keepalive",
    "faulted": "the box reported the status faulted during the run",
    "not_served": "the box refuses this documented register (exception 2)",
    "readback_mismatch": "wrote {written}, read back {seen}",
    "restore_failed": "wrote {written}, could not put back {restored}: read {seen}",
    # not observed
    "empty": "is empty",
    "zero": "stayed 0 during the run: nothing to compare",
    "no_current": "no current flowed during the run",
    "no_power": "no power flowed during the run",
    "not_charging": "nothing charged during the run",
    "too_little_energy": (
        "too little energy flowed ({expected}) to judge a counter of {step} steps: charge longer"
    ),
    "inputs_contradicted": "not judged: a value it is compared with is contradicted",
    "no_limit": "not judged: the box has no current limit to compare with",
    "timeout_off": "the box's timeout is off: no fallback to provoke",
    "timeout_long": "the box's timeout ({timeout} s) is longer than the run ({seconds} s)",
    "not_read": "not read during the run",
    "write_test_not_requested": "the write test was not asked for",
    "write_test_vehicle": "the write test runs only with no vehicle plugged in",
    "write_test_failed": "the write test could not run: {error}",
    # points without findings
    "no_check": "no check applies: the map gives it no unit, values, bits or range",
    "not_polled": "never read (a command, or a reserved area)",
    "not_on_box": "not on this model, layout or configuration",
}


# The codes a contradicted finding carries (Home Assistant raises a repair issue for each).
CONTRADICTION_CODES = frozenset(
    {
        "undocumented_value",
        "undocumented_bits",
        "not_printable",
        "layout_mismatch",
        "connectors_mismatch",
        "out_of_range",
        "too_large",
        "too_small",
        "swapped",
        "no_voltage",
        "wrong_phase",
        "above_limit",
        "power_mismatch",
        "energy_mismatch",
        "energy_without_power",
        "decreased",
        "duration_mismatch",
        "setting_invalid",
        "clock_offset",
        "clock_off",
        "clock_stopped",
        "clock_invalid",
        "reconnected",
        "reapplied",
        "lapsed",
        "faulted",
        "not_served",
        "readback_mismatch",
        "restore_failed",
    }
)


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def message(code: str, params: Mapping[str, str]) -> str:
    return VERIFY_MESSAGES.get(code, code).format_map(_Defaults(params))
