"""Evidence that a map holds on real hardware: verification reports beside the map.

A map rises to the rung ``hardware-verified`` for one firmware when a report of
a verification run on a box with that firmware is committed beside it, as
``maps/evidence/<map>/<firmware>.json``, and listed in the map's
``trust.hardware_verified``.  The report counts only when it confirms the map
as it is now:

- it is a verification report of this map, of the same points and derive
  rules (``digest``) and the same document revision;
- the box's firmware is the one claimed, its model one the map describes;
- it contradicts nothing, and every point the box answers by being read
  (identity, layout, documented values, bit fields, settings, clock, keepalive)
  is confirmed.  Points that need charging may be ``not observed``: the rung
  says what was shown on that firmware, and the report says the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .checks import Status, make_plan
from .registers import Point, RegisterMap, Rung

REPORT_KIND = "wallbox_modbus.verification"


def _point_form(point: Point) -> dict[str, Any]:
    write = point.write
    return {
        "id": point.id,
        "table": str(point.table),
        "address": point.address,
        "count": point.count,
        "type": point.type,
        "scale": point.scale,
        "unit": point.unit,
        "access": point.access,
        "values": None if point.values is None else {str(k): v for k, v in point.values.items()},
        "bits": None if point.bits is None else dict(point.bits),
        "write": None
        if write is None
        else {
            "values": list(write.values),
            "ranges": [list(r) for r in write.ranges],
            "max_from": None
            if write.max_from is None
            else [write.max_from.point, write.max_from.times],
        },
        "variants": {k: None if v is None else list(v) for k, v in point.variants.items()},
        "requires": dict(point.requires),
    }


def map_digest(regmap: RegisterMap) -> str:
    """A fingerprint of what a report judges: the points, derive rules and document revision.

    Texts (``doc``, titles, notes), tiers and the trust section do not count.
    """
    behaviour = regmap.behaviour
    form = {
        "revision": regmap.document.get("revision"),
        "points": [_point_form(p) for p in regmap.points],
        "identity": repr(behaviour.identity),
        "derive": repr(behaviour.derive),
    }
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def evidence_path(regmap: RegisterMap, firmware: str) -> str:
    """Where the report of a firmware goes, relative to the map's folder."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", firmware).strip("_") or "unknown"
    return f"evidence/{regmap.name}/{safe}.json"


def report_problems(
    regmap: RegisterMap,
    report: Mapping[str, Any],
    *,
    firmware: str | None = None,
    model: str | None = None,
) -> list[str]:
    """Why a report does not confirm the map (empty: it does)."""
    problems: list[str] = []
    if report.get("kind") != REPORT_KIND:
        return ["not a verification report"]
    about_map = report.get("map") or {}
    if about_map.get("name") != regmap.name:
        problems.append(f"made for map {about_map.get('name')!r}, not {regmap.name!r}")
    if about_map.get("revision") != regmap.document.get("revision"):
        problems.append(
            f"made for document revision {about_map.get('revision')!r}, "
            f"the map has {regmap.document.get('revision')!r}"
        )
    if about_map.get("digest") != map_digest(regmap):
        problems.append("the map's points changed since the report was made")
    box = report.get("box") or {}
    if firmware is not None and box.get("firmware") != firmware:
        problems.append(f"made on firmware {box.get('firmware')!r}, not {firmware!r}")
    models = {v.model_id: v.id for v in regmap.variants.values()}
    made_on = (report.get("model") or {}).get("id")
    if made_on not in models:
        problems.append(f"made on model {made_on!r}, which the map does not describe")
        return problems
    if model is not None and made_on != model:
        problems.append(f"made on model {made_on!r}, not {model!r}")
    points = report.get("points") or {}
    ids = {p.id for p in regmap.points}
    if set(points) != ids:
        problems.append("its points are not the map's points")
        return problems
    contradicted = sorted(
        k for k, v in points.items() if v.get("status") == str(Status.CONTRADICTED)
    )
    contradicted += [
        f"finding {f.get('code')}"
        for f in report.get("findings") or []
        if f.get("status") == str(Status.CONTRADICTED)
        and not set(f.get("points") or []) <= set(contradicted)
    ]
    if contradicted:
        problems.append("contradicts " + ", ".join(contradicted))
    on_box = [p for p in regmap.points if (points.get(p.id) or {}).get("on_box")]
    plan = make_plan(regmap, models[made_on], on_box)
    missing = [
        pid_
        for pid_ in plan.required()
        if (points.get(pid_) or {}).get("status") != str(Status.CONFIRMED)
    ]
    if missing:
        problems.append("does not confirm " + ", ".join(missing))
    return problems


def evidence_problems(regmap: RegisterMap) -> list[str]:
    """Why the map's hardware-verified claims do not hold (empty: they do)."""
    problems: list[str] = []
    if regmap.rung is Rung.HARDWARE_VERIFIED and not regmap.hardware_verified:
        problems.append("claims hardware-verified without a report")
    for claim in regmap.hardware_verified:
        path = regmap.source.parent / claim.report
        where = f"{regmap.name}: {claim.report}"
        if not path.is_file():
            problems.append(f"{where}: no such report")
            continue
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            problems.append(f"{where}: unreadable ({err})")
            continue
        if not isinstance(report, dict):
            problems.append(f"{where}: not a verification report")
            continue
        found = report_problems(regmap, report, firmware=claim.firmware, model=claim.model)
        problems += [f"{where}: {problem}" for problem in found]
    return problems


def load_report(path: Path) -> dict[str, Any]:
    """A report from a file: the report itself, or a diagnostics download holding one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and data.get("kind") != REPORT_KIND:
        inner = data.get("data", data)
        if isinstance(inner, dict) and isinstance(inner.get("verification_report"), dict):
            data = inner["verification_report"]
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        raise ValueError(f"{path.name}: no verification report in it")
    return data
