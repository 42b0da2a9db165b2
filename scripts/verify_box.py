"""Check a wallbox against its register map, without Home Assistant.

The same check as the button "Verify against the register map": the box is
watched for a while (default two minutes), nothing is written but its
keepalive, and a redacted JSON report is written.  With --write-test, and only
when no vehicle is plugged in, the charging current is written, read back and
put back.

    python scripts/verify_box.py vestel_evc04 192.168.1.50
    python scripts/verify_box.py amperfied_solar 192.168.1.51 --unit-id 1 --out report.json
    python scripts/verify_box.py --all-simulators      # each model against its simulator

Exit status: 0 confirmed, 1 contradicted, 2 incomplete (or the box did not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import (  # noqa: E402
    MODELS,
    ChargerError,
    Report,
    Status,
    Verification,
    create_charger,
)


def _version() -> str:
    manifest = ROOT / "custom_components" / "wallbox_modbus" / "manifest.json"
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


async def check(
    model: str,
    host: str,
    port: int,
    unit_id: int,
    *,
    duration: float,
    write_test: bool,
) -> Report:
    """One run against one box, on the real clock."""
    charger = create_charger(model, host, port, unit_id)
    try:
        verification = Verification(
            charger,
            wall_clock=lambda: dt.datetime.now().astimezone(),
            sleep=asyncio.sleep,
            duration=duration,
            write_test=write_test,
            about={"integration": _version(), "home_assistant": "none (scripts/verify_box.py)"},
        )
        return await verification.run()
    finally:
        await charger.close()


def summary(report: Report) -> str:
    data = report.data
    counts = data["summary"]
    lines = [
        f"{data['model']['title']} (firmware {data['box']['firmware']}, "
        f"layout {data['box']['layout_version']}), map {data['map']['name']} "
        f"revision {data['map']['revision']}: {counts['verdict']} — "
        f"{counts['confirmed']} confirmed, {counts['contradicted']} contradicted, "
        f"{counts['not observed']} not observed"
    ]
    for finding in report.findings:
        if finding.status is Status.CONTRADICTED:
            lines.append(f"  contradicted {', '.join(finding.points)}: {finding.message}")
    return "\n".join(lines)


async def _simulators(duration: float, write_test: bool, out: Path | None) -> int:
    from simulators.registry import SIMULATORS  # noqa: PLC0415

    sims = []
    for model in MODELS:
        sim = SIMULATORS[model](port=0)
        await sim.start()
        if not write_test:
            for connector in sim.cars:
                sim.plug(connector, max_current=16 if connector == 1 else 10)
        sims.append((model, sim))
    try:
        reports = await asyncio.gather(
            *(
                check(model, sim.host, sim.port, 255, duration=duration, write_test=write_test)
                for model, sim in sims
            )
        )
    finally:
        for _, sim in sims:
            await sim.stop()
    status = 0
    collected: dict[str, Any] = {}
    for (model, _), report in zip(sims, reports, strict=True):
        print(summary(report))
        collected[model] = report.data
        status = max(status, _status(report))
    if out is not None:
        out.write_text(json.dumps(collected, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"reports written to {out}")
    return status


def _status(report: Report) -> int:
    return {"confirmed": 0, "contradicted": 1}.get(report.verdict, 2)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python scripts/verify_box.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", nargs="?", choices=sorted(MODELS))
    parser.add_argument("host", nargs="?")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--unit-id", type=int, default=None)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--write-test", action="store_true", help="also test a write (opt-in)")
    parser.add_argument("--out", type=Path, help="where the JSON report goes")
    parser.add_argument("--all-simulators", action="store_true", help="each model, simulated")
    args = parser.parse_args()
    if args.all_simulators:
        sys.exit(asyncio.run(_simulators(args.duration, args.write_test, args.out)))
    if not (args.model and args.host):
        parser.error("name a model and a host, or use --all-simulators")
    defaults = MODELS[args.model].regmap.defaults
    port = args.port or int(defaults.get("port", 502))
    unit_id = args.unit_id if args.unit_id is not None else int(defaults.get("unit_id", 255))
    try:
        report = asyncio.run(
            check(
                args.model,
                args.host,
                port,
                unit_id,
                duration=args.duration,
                write_test=args.write_test,
            )
        )
    except ChargerError as err:
        print(f"the box did not answer as {MODELS[args.model].title}: {err}", file=sys.stderr)
        sys.exit(2)
    print(summary(report))
    out = args.out or Path(f"verification-{args.model}.json")
    out.write_text(json.dumps(report.data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"report written to {out}")
    sys.exit(_status(report))


if __name__ == "__main__":
    main()
