"""Commit an owner's verification report as evidence for a register map.

    python scripts/add_evidence.py config_entry-wallbox_modbus-….json

Takes a device's diagnostics download (or a report from scripts/verify_box.py),
checks that it confirms the shipped map as it is now (same points and document
revision, nothing contradicted, everything a reading can show confirmed),
writes it to charger/maps/evidence/<map>/<firmware>.json and prints the entry
to add to the map's trust.hardware_verified (with rung hardware-verified).
Nothing is written when the report does not confirm the map; the reasons are
printed and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import load_map  # noqa: E402
from custom_components.wallbox_modbus.charger.evidence import (  # noqa: E402
    evidence_path,
    load_report,
    report_problems,
)
from custom_components.wallbox_modbus.charger.registers import MAPS_DIR  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python scripts/add_evidence.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("report", type=Path, help="a diagnostics download or a report")
    args = parser.parse_args()
    report = load_report(args.report)
    name = report["map"]["name"]
    if not (MAPS_DIR / f"{name}.json").is_file():
        sys.exit(f"{name}: not a shipped map")
    regmap = load_map(name)
    firmware = report["box"].get("firmware")
    if not firmware:
        sys.exit("the report names no firmware")
    problems = report_problems(regmap, report, firmware=firmware)
    if problems:
        print(f"the report does not confirm {name} for firmware {firmware}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        sys.exit(1)
    relative = evidence_path(regmap, firmware)
    target = MAPS_DIR / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    claim = {"firmware": firmware, "report": relative, "model": report["model"]["id"]}
    print(f"written {target.relative_to(ROOT)}; add to trust.hardware_verified of {name}.json:")
    print(f"  {json.dumps(claim)}")
    print('and set "rung": "hardware-verified" (tests/charger/test_maps.py checks the claim).')


if __name__ == "__main__":
    main()
