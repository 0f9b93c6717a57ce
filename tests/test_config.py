"""ModelConfig: defaults, validation messages, round trips (dict / YAML / URL), editing."""

from __future__ import annotations

import pytest
import yaml

import idfy
from idfy import ConfigError, ConvSpec, ModelConfig, StageConfig
from idfy.config import BLOCK_ORDERS, parse_order


def test_config_error_is_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_default_config_is_valid_and_frozen() -> None:
    cfg = ModelConfig()
    with pytest.raises(AttributeError):
        cfg.num_classes = 3  # type: ignore[misc]
    assert cfg.num_outputs == 5  # localize, one class: the seed's (x1, y1, x2, y2, label)


@pytest.mark.parametrize("name", idfy.list_presets())
def test_round_trips_are_lossless(name: str) -> None:
    cfg = idfy.load_preset(name)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert ModelConfig.from_yaml(cfg.to_yaml()) == cfg
    url = cfg.to_url()
    assert url.startswith("v1.") and all(c.isalnum() or c in "-_." for c in url)
    assert ModelConfig.from_url(url) == cfg
    assert yaml.safe_load(cfg.to_yaml())["name"] == name


def test_presets_listed() -> None:
    assert {"seed_model1", "seed_model2", "full", "small", "tiny"} <= set(idfy.list_presets())


def test_is_design_names_presets_and_yaml_paths() -> None:
    from idfy.presets import is_design

    assert is_design("tiny") and is_design("benchmarks/tuning/b_wide.yaml") and is_design("x.yml")
    assert not is_design("resnet18") and not is_design("tiny.png")


def test_unknown_preset_suggests() -> None:
    with pytest.raises(ConfigError, match="seed_model2"):
        idfy.load_preset("seed_modle2")


def test_replace_and_set() -> None:
    cfg = idfy.load_preset("seed_model2")
    assert cfg.replace(num_classes=10).num_outputs == 14
    c2 = cfg.set("input.size", [64, 64])
    assert c2.input.size == (64, 64) and cfg.input.size == (224, 224)
    c3 = cfg.set("stages.1.inject", True)
    assert c3.stages[1].inject and not c3.stages[0].inject
    c4 = cfg.set("stages.*.down", "avgpool")
    assert all(s.down == "avgpool" for s in c4.stages)
    with pytest.raises(ConfigError, match="stage 7 does not exist"):
        cfg.set("stages.7.width", 3)
    with pytest.raises(ConfigError, match="unknown option"):
        cfg.set("input.sise", 3)


def test_fingerprint_ignores_name_only() -> None:
    cfg = idfy.load_preset("small")
    assert cfg.replace(name="other").fingerprint() == cfg.fingerprint()
    assert cfg.replace(num_classes=3).fingerprint() != cfg.fingerprint()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"stages": (StageConfig(width=16, conv=ConvSpec(kind="group", groups=3)),)},
            "groups=3 does not divide",
        ),
        ({"input": idfy.InputConfig(channels=2)}, "must be 1 .grey. or 3"),
        ({"input": idfy.InputConfig(size=(4, 4))}, "between 8 and"),
        ({"input": idfy.InputConfig(size=(100_000, 224))}, "between 8 and"),
        ({"input": idfy.InputConfig(scale=0.0)}, "positive number"),
        ({"stages": ()}, "at least one stage"),
        ({"stages": (StageConfig(width=0),)}, "width=0"),
        ({"stages": (StageConfig(stride=3),)}, "stride=3 must be 1 or 2"),
        ({"num_classes": 0}, "num_classes=0"),
        ({"block": idfy.BlockConfig(order="conv-bn-add")}, "exactly two 'conv'"),
        ({"block": idfy.BlockConfig(order="conv-bn-relu-conv-sum")}, "unknown step 'sum'"),
        ({"block": idfy.BlockConfig(order="conv-add-conv")}, "both convs must come before"),
    ],
)
def test_invalid_configs_raise_actionable_errors(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**change)


def test_stride_schedule_below_one_pixel() -> None:
    stages = tuple(StageConfig(width=8, stride=2) for _ in range(8))
    with pytest.raises(ConfigError, match="below 1×1"):
        ModelConfig(input=idfy.InputConfig(size=(16, 16)), stem=None, stages=stages)


def test_flatten_head_too_large_is_refused_before_building() -> None:
    cfg = idfy.load_preset("seed_model1")
    with pytest.raises(ConfigError, match=r"first FC layer .* GiB"):
        cfg.set("input.size", [1024, 1024])


def test_group_message_names_the_stage_and_the_fix() -> None:
    cfg = idfy.load_preset("seed_model2")
    with pytest.raises(ConfigError) as e:
        cfg.set("stages.2.conv", {"kind": "group", "groups": 5})
    assert "stage 3" in str(e.value) and "choose groups from" in str(e.value)


def test_unknown_key_suggests_the_right_one() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'depth'"):
        ModelConfig.from_dict({"stages": [{"width": 8, "deph": 2}]})


def test_wrong_types_name_the_path() -> None:
    with pytest.raises(ConfigError, match=r"stages\[0\]\.width: expected an integer"):
        ModelConfig.from_dict({"stages": [{"width": "wide"}]})
    with pytest.raises(ConfigError, match="not one of"):
        ModelConfig.from_dict({"task": "detect"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: [unclosed", "YAML could not be read at line"),
        ("", "YAML is empty"),
        ("- just\n- a list\n", "expected a mapping"),
        ("!!python/object/apply:os.system ['true']", "YAML could not be read"),
    ],
)
def test_bad_yaml(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_yaml(text)


@pytest.mark.parametrize("text", ["", "v2.abc", "v1.!!!!", "v1.eJwrSS0uAQAEXQHB"])
def test_bad_url_strings(text: str) -> None:
    with pytest.raises(ConfigError):
        ModelConfig.from_url(text)


def test_named_orders_are_he_2016_units() -> None:
    assert set(BLOCK_ORDERS) == {"original", "bn_after_add", "relu_before_add", "relu_preact", "preact"}
    assert parse_order("preact") == ("bn", "relu", "conv", "bn", "relu", "conv", "add")
    assert parse_order("conv > relu > bn > conv > add") == ("conv", "relu", "bn", "conv", "add")


def test_shapes_are_analytic_and_match_seed_model2() -> None:
    cfg = idfy.load_preset("seed_model2")
    assert cfg.stage_shapes() == [(8, 112, 112), (16, 56, 56), (24, 28, 28)]
    assert cfg.head_in_shape() == (24, 28, 28)


def test_preset_file_path_and_size_cap(tmp_path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(idfy.load_preset("tiny").replace(name="mine").to_yaml())
    assert idfy.load_preset(p).name == "mine"
    big = tmp_path / "big.yaml"
    big.write_text("#" * (300 * 1024))
    with pytest.raises(ConfigError, match="larger than"):
        idfy.load_preset(big)


def test_dense_kind_is_one_of_the_registered_kinds() -> None:
    from idfy.substreams import dense_kind_names

    assert ModelConfig().set("stages.0.dense.kind", "fc").stages[0].dense.kind == "fc"
    with pytest.raises(
        ConfigError, match=r"stage 1: dense.kind 'gcc' is not one of 'none', 'gc'.*did you mean 'gc'"
    ):
        ModelConfig().set("stages.0.dense.kind", "gcc")
    with pytest.raises(ConfigError, match="expected a string"):
        ModelConfig().set("stages.0.dense.kind", 3)
    assert {"none", "gc", "fc"} <= set(dense_kind_names())


def test_conv_kind_is_one_of_the_registered_kinds() -> None:
    with pytest.raises(
        ConfigError, match=r"^stage 1 block 1: conv.kind 'ghst' is not one of .*did you mean 'ghost'"
    ):
        ModelConfig().set("stages.0.conv.kind", "ghst")
    with pytest.raises(ConfigError, match=r"^stem: conv.kind 'x' is not one of 'regular', 'dilated'"):
        ModelConfig().set("stem.conv.kind", "x")
    assert ConvSpec(kind="sparse", groups=4, dilation=2).label() == "sparse(g4,d2)"
    assert ConvSpec(kind="ghost").label() == "ghost(r2)" and ConvSpec(groups=4).label() == "regular"
    assert ConvSpec(kind="regular", groups=4, dilation=3).eff_groups == 1
