"""Session state helpers and the memory guard of the explorer."""

from __future__ import annotations

import pytest

from idfy import load_preset
from idfy.analysis import memory as limits
from idfy.config import ConfigError
from idfy.ui.state import (
    CURRENT,
    MAX_SAVED,
    SAVED_PREFIX,
    config_from_text,
    design_choices,
    remember_latency,
    resolve_design,
    save_design,
)


def test_config_from_text_accepts_yaml_preset_names_and_links() -> None:
    cfg = load_preset("seed_model2")
    assert config_from_text("seed_model2") == cfg
    assert config_from_text(cfg.to_yaml()) == cfg
    assert config_from_text(cfg.to_url()) == cfg


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "config is empty"),
        ("seed_modle2", "Did you mean 'seed_model2'"),
        ("v1.garbage", "damaged"),
        ("name: x\nstages: [{width: 8, groups: 3}]", "unknown option 'groups'"),
        ("name: [unclosed", "YAML could not be read"),
        ("x" * 300_000, "larger than"),
        ("/etc/passwd", "unknown preset '/etc/passwd'. Presets: "),  # a name, never a file
        ("presets/tiny.yaml", "unknown preset 'presets/tiny.yaml'"),
        ("file:/etc/passwd", "file paths are not accepted here"),
        ("a: &x [1]\nb: *x", "anchors and aliases"),
    ],
)
def test_config_from_text_errors_are_actionable(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        config_from_text(text)


def test_saved_designs_and_choices() -> None:
    current = load_preset("tiny").to_yaml()
    saved = save_design({}, " mine ", current)
    assert list(saved) == ["mine"]
    assert design_choices(saved)[0] == CURRENT
    assert SAVED_PREFIX + "mine" in design_choices(saved)
    assert resolve_design(SAVED_PREFIX + "mine", saved, current).name == "mine"
    assert resolve_design(CURRENT, saved, current) == load_preset("tiny")
    assert resolve_design("full", saved, current) == load_preset("full")
    with pytest.raises(ConfigError, match="no saved design"):
        resolve_design(SAVED_PREFIX + "other", saved, current)
    with pytest.raises(ConfigError, match="taken by a preset"):
        save_design(saved, "full", current)
    with pytest.raises(ConfigError, match="short name"):
        save_design(saved, "  ", current)
    many = {f"d{i}": current for i in range(MAX_SAVED)}
    with pytest.raises(ConfigError, match="at most"):
        save_design(many, "one-more", current)
    assert "d0" in save_design(many, "d0", current)  # overwriting is fine


def test_remember_latency_is_bounded_and_copies() -> None:
    measured: dict = {}
    for i in range(40):
        new = remember_latency(measured, f"fp{i}", {"batch1": {"median_ms": i}})
        assert new is not measured
        measured = new
    assert len(measured) == 32 and "fp39" in measured and "fp0" not in measured


def test_memory_guard_refuses_a_huge_design_before_building_it() -> None:
    huge = load_preset("full").set("stages.*.width", 2048).set("stages.*.conv.kind", "regular")
    with pytest.raises(ConfigError, match="explorer refuses designs above"):
        limits.check_memory(huge)
    est = limits.check_memory(load_preset("seed_model2"))
    assert est.params == 4_848_437  # exact, from a meta-device build
    assert est.train_bytes(32) > est.train_bytes(1)


def test_memory_cap_can_be_lowered_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDFY_APP_MEMORY_CAP_MB", "1")
    assert limits.memory_cap_bytes() == 2**20
    with pytest.raises(ConfigError, match="refuses"):
        limits.check_memory(load_preset("seed_model2"))
