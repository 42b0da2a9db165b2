"""Metadata checked the way hassfest and HACS validation would.

hassfest lives only in Home Assistant's core repository and cannot be installed
here, so its rules that matter for a custom integration are restated: manifest
keys and order, a floor-only pymodbus requirement, strings.json mirrored in
translations/en.json, every translation key present in both languages with
the same placeholders, every translation_key the code uses present in the
strings, icons only for known entities, a valid hacs.json and a brand icon.
HACS's repository checks are mirrored as far as they can be without GitHub: an
MIT LICENSE GitHub can detect, code owners naming the maintainers' team of the
README's repository, the workflows, the issue templates and the changelog.
"""

from __future__ import annotations

import ast
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml

from custom_components.wallbox_modbus.charger import MODELS

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "wallbox_modbus"
PLATFORMS = ("binary_sensor", "lock", "number", "select", "sensor", "switch")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        out: dict[str, str] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: str(tree)}


STRINGS = load(INTEGRATION / "strings.json")
EN = load(INTEGRATION / "translations" / "en.json")
DE = load(INTEGRATION / "translations" / "de.json")


def test_manifest_as_hassfest_wants_it() -> None:
    manifest = load(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest: domain, name, then alphabetical"
    assert manifest["domain"] == "wallbox_modbus" == INTEGRATION.name
    for key in ("codeowners", "config_flow", "documentation", "iot_class", "issue_tracker"):
        assert key in manifest
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "device"
    assert manifest["iot_class"] == "local_polling"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"]), "HACS needs a version"
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    # pymodbus logs come from our use of it: Home Assistant names the integration with them
    assert manifest["loggers"] == ["custom_components.wallbox_modbus", "pymodbus"]


def test_dhcp_matchers_are_the_maps_and_as_hassfest_wants_them() -> None:
    """The manifest lists exactly the DHCP host names the register maps claim (with the
    document quoted there); hassfest wants host names in lower case."""
    manifest = load(INTEGRATION / "manifest.json")
    claimed = []
    for path in sorted((INTEGRATION / "charger" / "maps").glob("*.json")):
        discovery = load(path).get("discovery", {})
        if discovery:
            assert discovery.get("doc"), f"{path.name}: discovery without its evidence"
        claimed += [matcher["hostname"] for matcher in discovery.get("dhcp", [])]
    assert claimed, "no map claims a DHCP host name"
    assert manifest["dhcp"] == [{"hostname": hostname} for hostname in claimed]
    for matcher in manifest["dhcp"]:
        assert set(matcher) == {"hostname"}
        assert matcher["hostname"] == matcher["hostname"].lower()
        assert matcher["hostname"].endswith("*")


def test_requirements_declare_a_floor_only() -> None:
    """Home Assistant forces its own pymodbus pin: anything but a floor breaks loading."""
    requirements = load(INTEGRATION / "manifest.json")["requirements"]
    assert requirements == ["pymodbus>=3.8.3"]
    for req in requirements:
        assert not re.search(r"==|<|~=|!=", req)


def test_hacs_json() -> None:
    hacs = load(ROOT / "hacs.json")
    allowed = {
        "name", "content_in_root", "zip_release", "filename", "hide_default_branch",
        "country", "homeassistant", "hacs", "persistent_directory", "render_readme",
    }  # fmt: skip
    assert set(hacs) <= allowed
    assert hacs["name"] == "Wallbox Modbus"
    assert re.fullmatch(r"20\d\d\.\d+\.\d+", hacs["homeassistant"])
    assert tuple(int(p) for p in hacs["homeassistant"].split(".")) <= (2025, 4, 0)
    assert not hacs.get("content_in_root", False)
    assert (ROOT / "README.md").exists()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_brand_icons() -> None:
    assert _png_size(INTEGRATION / "brand" / "icon.png") == (256, 256)
    assert _png_size(INTEGRATION / "brand" / "icon@2x.png") == (512, 512)


def test_english_translation_mirrors_strings() -> None:
    assert EN == STRINGS


def test_german_has_every_key_and_nothing_else() -> None:
    en, de = flatten(STRINGS), flatten(DE)
    assert sorted(set(en) - set(de)) == []
    assert sorted(set(de) - set(en)) == []


@pytest.mark.parametrize("path", sorted(flatten(STRINGS)))
def test_placeholders_match_between_languages(path: str) -> None:
    en, de = flatten(STRINGS)[path], flatten(DE)[path]
    assert de.strip(), f"{path}: empty German text"
    assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", de)), path


def _translation_keys(source: Path) -> tuple[list[str], list[str]]:
    """(entity keys, exception keys): translation_key literals, told apart by the call
    that carries them (an ...Error/...Exception constructor, or anything else)."""
    entity: list[str] = []
    exception: list[str] = []
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        for kw in node.keywords:
            value = kw.value
            if (
                kw.arg == "translation_key"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                is_error = name.endswith(("Error", "Exception", "Failed", "NotReady"))
                (exception if is_error else entity).append(value.value)
    return entity, exception


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_entity_translation_key_is_translated(platform: str) -> None:
    source = INTEGRATION / f"{platform}.py"
    if not source.exists():
        pytest.skip(f"no {platform} platform")
    keys, _ = _translation_keys(source)
    assert keys, f"{platform}.py declares no translation keys"
    names = STRINGS.get("entity", {}).get(platform, {})
    missing = [k for k in keys if "name" not in names.get(k, {})]
    assert missing == []


def test_every_exception_translation_key_is_translated() -> None:
    exceptions = STRINGS.get("exceptions", {})
    for source in INTEGRATION.glob("*.py"):
        _, keys = _translation_keys(source)
        missing = [k for k in keys if k not in exceptions]
        assert missing == [], f"{source.name}: {missing}"


def test_config_flow_errors_and_aborts_are_translated() -> None:
    text = (INTEGRATION / "config_flow.py").read_text()
    errors = set(re.findall(r'errors\[[^\]]+\]\s*=\s*"(\w+)"', text))
    errors |= set(re.findall(r'"base":\s*"(\w+)"', text))
    aborts = set(re.findall(r'async_abort\(\s*reason="(\w+)"', text))
    config = STRINGS["config"]
    assert errors, "no errors found in config_flow.py"
    assert sorted(errors - set(config.get("error", {}))) == []
    for reason in aborts:
        assert reason in config.get("abort", {}), reason


def test_every_config_field_has_a_description() -> None:
    for flow in ("config", "options"):
        for step_id, step in STRINGS.get(flow, {}).get("step", {}).items():
            data = set(step.get("data", {}))
            described = set(step.get("data_description", {}))
            assert data <= described, f"{flow}.{step_id}: {sorted(data - described)}"


def test_icons_refer_to_translated_entities() -> None:
    icons = load(INTEGRATION / "icons.json")
    for platform, entries in icons.get("entity", {}).items():
        for key in entries:
            assert key in STRINGS["entity"].get(platform, {}), f"icon for unknown {platform}.{key}"


def test_blueprint_uses_only_catalog_entities() -> None:
    text = (
        ROOT / "blueprints" / "automation" / "wallbox_modbus" / "solar_surplus_charging.yaml"
    ).read_text()
    assert "integration: wallbox_modbus" in text
    for action in re.findall(r"action: (\w+\.\w+)", text):
        assert action in {"number.set_value", "switch.turn_on", "switch.turn_off"}


# ------------------------------------------------------------------ the repository


def _repository() -> tuple[str, str]:
    """(organisation, name) of the repository the README and the manifest point to."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"https://github\.com/([\w.-]+)/([\w.-]+)", readme)
    assert found, "the README names no GitHub repository"
    manifest = load(INTEGRATION / "manifest.json")
    assert manifest["documentation"] == f"https://github.com/{found[1]}/{found[2]}"
    assert manifest["issue_tracker"] == f"{manifest['documentation']}/issues"
    return found[1], found[2]


def test_license_is_mit() -> None:
    """HACS fails a repository without a licence GitHub detects (an OSI one)."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert re.search(r"Copyright \(c\) 20\d\d Wallbox Modbus contributors", text)
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'license = { text = "MIT" }' in pyproject


def test_codeowners_is_the_maintainers_team() -> None:
    """A team of the repository's organisation, not a person (integration-owner)."""
    organisation, _ = _repository()
    assert load(INTEGRATION / "manifest.json")["codeowners"] == [f"@{organisation}/maintainers"]


def _workflow(name: str) -> dict[Any, Any]:
    path = ROOT / ".github" / "workflows" / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _uses(workflow: dict[Any, Any]) -> list[str]:
    return [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]


def _triggers(workflow: dict[Any, Any]) -> set[str]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on:` as True
    return set(on)


def test_workflow_hassfest() -> None:
    workflow = _workflow("hassfest.yml")
    assert "home-assistant/actions/hassfest@master" in _uses(workflow)
    assert {"push", "pull_request"} <= _triggers(workflow)


def test_workflow_hacs() -> None:
    workflow = _workflow("hacs.yml")
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    hacs = next(step for step in steps if step.get("uses") == "hacs/action@main")
    assert hacs["with"] == {"category": "integration"}  # no check ignored
    assert {"push", "pull_request"} <= _triggers(workflow)


def test_workflow_tests_runs_the_test_command() -> None:
    workflow = _workflow("tests.yml")
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "bash .ci/run" in runs
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # what scripts/envs.sh installs itself is there already, and what it needs of the machine
    for package in ("debootstrap", "mbpoll", "chromium", "python3-venv"):
        assert package in runs, package
    assert "3.13" in runs
    job = next(iter(workflow["jobs"].values()))
    assert job["runs-on"] == "ubuntu-latest"
    assert "--privileged" in job["container"]["options"]  # mount and chroot
    assert {"push", "pull_request"} <= _triggers(workflow)


def _issue_form(name: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / ".github" / "ISSUE_TEMPLATE" / name).read_text("utf-8"))
    assert isinstance(data, dict)
    assert data["name"] and data["description"] and data["body"]
    ids = [field["id"] for field in data["body"] if field["type"] != "markdown"]
    assert len(ids) == len(set(ids)), f"{name}: duplicate ids"
    return data


def _fields(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {field["id"]: field for field in form["body"] if field["type"] != "markdown"}


def test_bug_report_asks_what_a_fix_needs() -> None:
    fields = _fields(_issue_form("bug_report.yml"))
    assert {"model", "firmware", "layout", "ha_version", "diagnostics"} <= set(fields)
    for required in ("model", "firmware", "ha_version", "diagnostics"):
        assert fields[required]["validations"]["required"] is True, required
    options = fields["model"]["attributes"]["options"]
    for model in MODELS.values():
        assert any(option.startswith(model.title) for option in options), model.title
    assert "Download diagnostics" in fields["diagnostics"]["attributes"]["description"]


def test_new_wallbox_template_asks_for_the_document() -> None:
    fields = _fields(_issue_form("new_wallbox.yml"))
    assert {"model", "firmware", "document", "connection", "identity", "map"} <= set(fields)
    assert fields["document"]["validations"]["required"] is True


def test_changelog_keeps_a_changelog() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "[Keep a Changelog](https://keepachangelog.com/" in text
    assert "\n## [Unreleased]\n" in text
    version = load(INTEGRATION / "manifest.json")["version"]
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$", text, re.M)
    assert released, "no released version"
    assert released[0][0] == version, "the newest release is the manifest's version"
    organisation, name = _repository()
    releases = f"https://github.com/{organisation}/{name}/releases/tag"
    for number, _ in released:
        assert f"[{number}]: {releases}/v{number}" in text


def test_readme_has_the_release_process() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Release process", 1)[1].split("\n## ", 1)[0]
    for step in ("manifest.json", "tag", "GitHub release", "HACS"):
        assert step in section, step
