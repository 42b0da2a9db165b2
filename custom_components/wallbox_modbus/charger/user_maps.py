"""Register maps a user adds: any Modbus TCP wallbox from a file, with no code.

A user puts map files (JSON like the shipped maps, or YAML) into one folder;
every valid one gives models to choose from, every invalid one is reported
with its error (file, place, field) instead of raising.  The schema is the
shipped maps' own (``registers.py`` and ``spec.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import RegisterMapError
from .models import ModelInfo, models_of
from .registers import load_map_file

SUFFIXES = (".json", ".yaml", ".yml")
PREFIX = "user:"

README = """\
# Wallbox Modbus: your own register maps

Put a register map file here (YAML or JSON) for a Modbus TCP wallbox that the
integration does not ship a map for.  Each valid file shows up at the end of the
model list of *Settings -> Devices & services -> Add integration -> Wallbox
Modbus*, as "<manufacturer> <variant name>" (user map).  A file with a mistake is
listed as unusable; choosing it shows what is wrong, with the point and the field.

The schema is the one of the maps the integration ships (see its README, "Add your
own wallbox", for a worked example and every field).  Try a map without hardware:

    python -m simulators --map this_folder/my_wallbox.yaml --port 1502

Files are read when you open the dialog, when an entry of the map starts, and
when you reconfigure it.  A map can only read the registers it declares and write
only the points it marks writable, with the values it allows.
"""


def user_model_id(file: str, variant: str) -> str:
    """The model id of a user map's variant: 'user:acme_flux.yaml#flux11'."""
    return f"{PREFIX}{file}#{variant}"


def is_user_model(model_id: str) -> bool:
    return model_id.startswith(PREFIX)


def file_of(model_id: str) -> str:
    """'user:acme_flux.yaml#flux11' -> 'acme_flux.yaml'."""
    return model_id.removeprefix(PREFIX).partition("#")[0]


@dataclass(frozen=True, kw_only=True)
class UserMaps:
    """What the folder holds: models of the valid maps, errors of the others."""

    models: dict[str, ModelInfo] = field(default_factory=dict)
    unusable: dict[str, RegisterMapError] = field(default_factory=dict)


def load_user_map(path: Path) -> list[ModelInfo]:
    """The models of one user map file (RegisterMapError if it is not valid)."""
    regmap = load_map_file(path)
    return [
        ModelInfo(
            id=user_model_id(path.name, model.variant),
            variant=model.variant,
            regmap=regmap,
            user_map=True,
        )
        for model in models_of(regmap)
    ]


def scan_user_maps(folder: Path) -> UserMaps:
    """Every map file of the folder (blocking: run it in an executor)."""
    result = UserMaps()
    if not folder.is_dir():
        return result
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            continue
        try:
            for model in load_user_map(path):
                result.models[model.id] = model
        except RegisterMapError as err:
            result.unusable[path.name] = err
    return result


def ensure_folder(folder: Path) -> None:
    """Create the folder and its README on first use (blocking)."""
    folder.mkdir(parents=True, exist_ok=True)
    readme = folder / "README.md"
    if not readme.exists():
        readme.write_text(README, encoding="utf-8")
