"""quality_scale.yaml lists every rule of Home Assistant's Integration Quality Scale.

hassfest validates this file for core integrations only, so its checks are
restated here: the rule list, the file's schema (a status per rule; an
exemption needs its reason), plus what this project asks of it: no rule left
"todo", every file and test a comment names exists, every README section a
docs rule names exists, and the claims hassfest's own rule validators check
(config flow, discovery, reconfigure, runtime data, strict typing, set-up test,
unique entry) hold in the code, as do the claims about actions and repairs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "wallbox_modbus"

# ALL_RULES of home-assistant/core script/hassfest/quality_scale.py (commit
# 008538e822535b1d6155c91f6642127afa184ed1), by tier, in its order; the rule
# pages are https://developers.home-assistant.io/docs/core/integration-quality-scale/rules/<rule>/
SCALE: dict[str, list[str]] = {
    "bronze": [
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ],
    "gold": [
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}
ALL_RULES = [rule for rules in SCALE.values() for rule in rules]

# The README sections each documentation rule rests on.
DOCS_SECTIONS = {
    "docs-actions": ["Check your box against its register map"],
    "docs-installation-instructions": ["Installation", "Configuration"],
    "docs-removal-instructions": ["Removal"],
    "docs-configuration-parameters": ["Configuration"],
    "docs-installation-parameters": ["Configuration", "Discovery"],
    "docs-data-update": ["How data is polled"],
    "docs-examples": ["Automation examples", "Dashboard card"],
    "docs-known-limitations": ["Known limitations"],
    "docs-supported-devices": ["Supported devices"],
    "docs-supported-functions": ["Entities"],
    "docs-troubleshooting": ["Troubleshooting"],
    "docs-use-cases": ["Use cases"],
}
PLATFORMS = ("binary_sensor", "button", "lock", "number", "select", "sensor", "switch")


def load_rules() -> dict[str, Any]:
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"rules"}
    rules: dict[str, Any] = data["rules"]
    return rules


RULES = load_rules()


def status(rule: str) -> str:
    value = RULES[rule]
    return str(value if isinstance(value, str) else value["status"])


def comment(rule: str) -> str:
    value = RULES[rule]
    return "" if isinstance(value, str) else str(value.get("comment", ""))


def source(name: str) -> str:
    return (INTEGRATION / name).read_text(encoding="utf-8")


def integration_code() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(INTEGRATION.rglob("*.py")))


def test_the_rule_list_is_the_scale() -> None:
    assert len(ALL_RULES) == 54 == len(set(ALL_RULES))
    assert [len(rules) for rules in SCALE.values()] == [20, 10, 21, 3]


def test_every_rule_and_nothing_else() -> None:
    assert sorted(set(ALL_RULES) - set(RULES)) == [], "rules missing"
    assert sorted(set(RULES) - set(ALL_RULES)) == [], "not rules of the scale"
    assert list(RULES) == ALL_RULES, "in the scale's order, tier by tier"


@pytest.mark.parametrize("rule", ALL_RULES)
def test_rule_entry_as_hassfest_wants_it(rule: str) -> None:
    """A plain status, or status and comment; an exemption always has its reason."""
    value = RULES[rule]
    if isinstance(value, str):
        assert value in ("done", "todo"), rule
        return
    assert isinstance(value, dict) and set(value) <= {"status", "comment"}, rule
    assert value["status"] in ("done", "todo", "exempt"), rule
    if value["status"] == "exempt":
        assert str(value.get("comment", "")).strip(), f"{rule}: an exemption needs a reason"


@pytest.mark.parametrize("rule", ALL_RULES)
def test_every_rule_that_applies_is_done_with_its_evidence(rule: str) -> None:
    assert status(rule) in ("done", "exempt"), f"{rule} is still {status(rule)}"
    assert len(comment(rule)) >= 20, f"{rule}: say why (evidence or reason)"


def _defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }


@pytest.mark.parametrize("rule", ALL_RULES)
def test_named_files_and_tests_exist(rule: str) -> None:
    """Evidence that rots is no evidence: every path and every test named is there."""
    text = comment(rule)
    for path in re.findall(r"\b((?:tests|charger|custom_components|scripts)/[\w./-]+\.\w+)", text):
        candidates = [ROOT / path, INTEGRATION / path]
        assert any(c.exists() for c in candidates), f"{rule}: {path} does not exist"
    # "file.py::name, name2": each name is defined in that file
    for path, names in re.findall(r"([\w/.]+\.py)::(\w+(?:, (?:test_)\w+)*)", text):
        file = next(
            (c for c in (ROOT / path, INTEGRATION / path) if c.exists()), INTEGRATION / path
        )
        assert file.exists(), f"{rule}: {path}"
        defined = _defined_names(file)
        for name in names.split(", "):
            assert name in defined, f"{rule}: {path} defines no {name}"


def test_every_test_named_exists() -> None:
    tests = {name for path in (ROOT / "tests").rglob("test_*.py") for name in _defined_names(path)}
    for rule in ALL_RULES:
        for name in re.findall(r"\b(test_\w+)\b", comment(rule)):
            if f"{name}.py" not in comment(rule):  # a test module, not a test
                assert name in tests, f"{rule}: no test {name}"


@pytest.mark.parametrize("rule", sorted(DOCS_SECTIONS))
def test_docs_rules_name_sections_the_readme_has(rule: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^#{2,3} (.+)$", readme, re.MULTILINE))
    for section in DOCS_SECTIONS[rule]:
        assert section in headings, f"README.md has no section {section}"
        assert section in comment(rule), f"{rule} does not name {section}"


def test_claims_hassfest_would_check() -> None:
    """What hassfest's rule validators check, and what the comments claim, holds."""
    manifest = yaml.safe_load((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    flow = source("config_flow.py")
    entry = source("entry.py")
    code = integration_code()
    # config-flow
    assert manifest["config_flow"] is True and "class WallboxModbusConfigFlow(ConfigFlow" in flow
    # discovery: a manifest matcher and the step that takes it
    assert status("discovery") == "done"
    assert manifest["dhcp"] and "async def async_step_dhcp(" in flow
    # reconfiguration-flow
    assert "async def async_step_reconfigure(" in flow
    # runtime-data
    assert "entry.runtime_data = WallboxRuntimeData(" in entry
    assert "type WallboxConfigEntry = ConfigEntry[WallboxRuntimeData]" in source("coordinator.py")
    # test-before-setup
    assert "await coordinator.async_config_entry_first_refresh()" in entry
    # unique-config-entry
    assert "self._abort_if_unique_id_configured(" in flow
    assert "self._async_abort_entries_match(" in flow
    # strict-typing
    assert (INTEGRATION / "py.typed").exists()
    test_sh = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert re.search(r"mypy\"? --strict custom_components/wallbox_modbus", test_sh)
    # test-coverage: the whole integration, floor on the combined figure
    assert "--cov-fail-under=95" in test_sh and "--cov-append" in test_sh
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "omit" not in pyproject.split("[tool.coverage.run]", 1)[1].split("\n[", 1)[0]
    # parallel-updates
    for platform in PLATFORMS:
        assert re.search(r"^PARALLEL_UPDATES = [01]$", source(f"{platform}.py"), re.M), platform
    # integration-owner
    assert manifest["codeowners"]
    # brands
    assert (INTEGRATION / "brand" / "icon.png").exists()
    # stale-devices, config-entry-unloading
    init = source("__init__.py")
    assert "async def async_remove_config_entry_device(" in init
    assert "async def async_unload_entry(" in init
    # action-setup: actions registered once, in async_setup, not per entry
    init_tree = ast.parse(init)
    setup = next(
        node
        for node in ast.walk(init_tree)
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "async_setup"
    )
    assert "services" in ast.unparse(setup)
    assert "services.async_register" not in entry
    # repair-issues: the issues are created, and deleted with the entry
    assert "ir.async_create_issue(" in source("verification.py")
    assert "ir.async_delete_issue(" in entry
    # the exemptions: no authentication, no HTTP
    assert status("reauthentication-flow") == "exempt" and "async_step_reauth" not in flow
    assert status("inject-websession") == "exempt"
    assert not re.search(r"^\s*(import|from) (aiohttp|httpx|requests)\b", code, re.M)
    assert status("docs-triggers") == status("docs-conditions") == "exempt"
    assert not (INTEGRATION / "device_trigger.py").exists()
    assert not (INTEGRATION / "device_condition.py").exists()
