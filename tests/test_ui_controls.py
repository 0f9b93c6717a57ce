"""Design controls <-> ModelConfig mapping (no Gradio server, no browser)."""

from __future__ import annotations

import pytest

from idfy import load_preset
from idfy.config import BLOCK_ORDERS, ConfigError, ModelConfig, StageConfig
from idfy.presets import list_presets
from idfy.ui.controls import (
    CUSTOM_ORDER,
    KEYS,
    MAX_STAGES,
    SPECS,
    config_to_values,
    conv_field_visibility,
    order_choice_for,
    values_to_config,
)
from idfy.ui.fixes import fix_conv_for_kind, locate, suggest_fixes


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_round_trips_through_the_controls(name: str) -> None:
    cfg = load_preset(name)
    values = config_to_values(cfg)
    assert set(values) == set(KEYS)
    assert values_to_config(values, cfg) == cfg
    # without a base only name/description are lost: the design itself is the same
    assert values_to_config(values, None).fingerprint() == cfg.fingerprint()


def test_keys_are_unique_and_cover_every_stage_row() -> None:
    assert len(KEYS) == len(set(KEYS))
    for i in range(MAX_STAGES):
        assert f"stages.{i}.conv.kind" in KEYS
    assert {s.widget for s in SPECS} <= {"int", "float", "check", "drop", "radio", "text", "slider"}


def test_changing_one_control_changes_exactly_that_option() -> None:
    cfg = load_preset("seed_model2")
    values = config_to_values(cfg)
    values["stages.1.inject"] = True
    values["stages.2.width"] = 32
    new = values_to_config(values, cfg)
    assert new.stages[1].inject and new.stages[2].width == 32
    assert new.replace(stages=cfg.stages) == cfg


def test_stage_count_adds_a_sensible_stage_and_removes_stages() -> None:
    cfg = load_preset("seed_model2")
    values = config_to_values(cfg)
    values["stages.count"] = 4
    four = values_to_config(values, cfg)
    assert len(four.stages) == 4
    assert four.stages[3].width == 48 and four.stages[3].stride == 2  # twice the previous width
    assert four.stage_shapes()[-1] == (48, 14, 14)
    values["stages.count"] = 1
    assert len(values_to_config(values, cfg).stages) == 1


def test_stages_beyond_the_fourth_are_kept_from_the_base() -> None:
    cfg = ModelConfig(
        stages=tuple(StageConfig(width=16 * (i + 1), stride=2 if i < 3 else 1) for i in range(6))
    )
    values = config_to_values(cfg)
    assert values["stages.count"] == MAX_STAGES
    assert values_to_config(values, cfg) == cfg


def test_stem_switch_and_head_widths_text() -> None:
    cfg = load_preset("seed_model2")
    values = config_to_values(cfg)
    assert values["stem.enabled"] is False
    values["stem.enabled"] = True
    values["head.widths"] = "256; 32 16"
    new = values_to_config(values, cfg)
    assert new.stem is not None and new.stem.width == 16
    assert new.head.widths == (256, 32, 16)
    values["stem.enabled"] = False
    assert values_to_config(values, cfg).stem is None
    values["head.widths"] = ""
    assert values_to_config(values, cfg).head.widths == ()


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("stages.0.width", None, "stage 1 width: enter a whole number"),
        ("stages.1.depth", 1.5, "stage 2 blocks"),
        ("input.scale", "ten", "is not a number"),
        ("head.widths", "128, abc", "'abc' is not a number"),
        ("stages.0.gaussian.sigmas", "", "needs at least one σ"),
        ("stages.0.conv.groups", 5, "groups=5"),
    ],
)
def test_bad_control_values_name_the_control(key: str, value: object, fragment: str) -> None:
    cfg = load_preset("full")
    values = config_to_values(cfg)
    values[key] = value
    with pytest.raises(ConfigError, match=fragment):
        values_to_config(values, cfg)


def test_block_order_named_and_custom() -> None:
    cfg = load_preset("full")
    values = config_to_values(cfg)
    assert values["block.order"] == "preact"
    assert values["block.order_text"] == BLOCK_ORDERS["preact"]
    values["block.order"] = CUSTOM_ORDER
    values["block.order_text"] = "conv-relu-bn-conv-add"
    assert values_to_config(values, cfg).block.order == "conv-relu-bn-conv-add"
    values["block.order_text"] = "conv-conv"
    with pytest.raises(ConfigError, match=r"block\.order"):
        values_to_config(values, cfg)
    assert order_choice_for(BLOCK_ORDERS["original"]) == "original"
    assert order_choice_for("conv-relu-bn-conv-add") == CUSTOM_ORDER
    assert order_choice_for("nonsense") == CUSTOM_ORDER


def test_conv_kind_rules() -> None:
    assert conv_field_visibility("regular") == (False, False, False)
    assert conv_field_visibility("sparse") == (True, True, False)
    assert conv_field_visibility("ghost") == (True, True, True)
    seed = load_preset("seed_model2")
    values = config_to_values(seed)
    values["stages.1.conv.kind"] = "group"  # 8 -> 16 channels
    assert fix_conv_for_kind(values, "stages.1.", seed) == (2, 1)
    values["stages.1.conv.kind"] = "sparse"
    assert fix_conv_for_kind(values, "stages.1.", seed) == (2, 2)
    values["stages.1.conv.groups"], values["stages.1.conv.dilation"] = 4, 3
    values["stages.1.conv.kind"] = "dilated"
    assert fix_conv_for_kind(values, "stages.1.", seed) == (4, 3)
    full = load_preset("full")
    values = config_to_values(full)
    values["stages.0.conv.groups"], values["stages.0.conv.kind"] = 5, "group"  # 12 -> 24: 5 is invalid
    g, _ = fix_conv_for_kind(values, "stages.0.", full)
    assert g == 2 and values_to_config({**values, "stages.0.conv.groups": g}, full)


@pytest.mark.parametrize(
    ("preset", "key", "value"),
    [
        ("seed_model2", "stages.0.conv.kind", "group"),  # 3 input channels: no group count works
        ("full", "stages.0.conv.groups", 5),
        ("full", "stages.2.conv.groups", 7),
        ("tiny", "stages.0.width", 0),
        ("full", "input.height", 4),
        ("seed_model2", "head.widths", "128, 0"),
        ("full", "stages.1.gaussian.sigmas", ""),
    ],
)
def test_errors_name_their_control_and_every_suggested_fix_works(
    preset: str, key: str, value: object
) -> None:
    base = load_preset(preset)
    values = config_to_values(base)
    values[key] = value
    if key.endswith("conv.kind"):
        values[key.replace("kind", "groups")] = 2
    with pytest.raises(ConfigError) as info:
        values_to_config(values, base)
    where = locate(info.value)
    assert where is not None and where.split(".")[:2] == key.split(".")[:2]
    fixes = suggest_fixes(values, where, base)
    assert fixes, str(info.value)
    for k, v in fixes:  # each one alone makes the design valid
        assert values_to_config({**values, k: v}, base)


def test_a_registered_kind_describes_itself_and_its_refusal_points_at_its_control() -> None:
    from idfy.ui.glossary import choice_text

    assert "Wang et al. 2018" in choice_text("stages.2.dense.kind", "nonlocal")
    with pytest.raises(ConfigError) as err:
        load_preset("seed_model2").set("stages.0.dense.kind", "nonlocal")
    assert locate(str(err.value)) == "stages.0.dense.kind"
