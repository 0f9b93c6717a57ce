"""Property-based tests: any config either raises ConfigError (and nothing else) or builds and runs."""

from __future__ import annotations

import contextlib

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idfy import ConfigError, ModelConfig, build_model
from idfy.config import BLOCK_ORDERS

_KINDS = ["regular", "dilated", "group", "sparse", "ghost"]


@st.composite
def conv_specs(draw: st.DrawFn, wild: bool) -> dict:
    hi = 9
    return {
        "kind": draw(st.sampled_from(_KINDS if wild else [*_KINDS, "regular", "dilated", "ghost"])),
        "groups": draw(st.integers(0, hi) if wild else st.sampled_from([2, 2, 4])),
        "dilation": draw(st.integers(0, 3) if wild else st.sampled_from([2, 3])),
        "ghost_ratio": draw(st.integers(1 if wild else 2, 4)),
    }


@st.composite
def stage_dicts(draw: st.DrawFn, wild: bool) -> dict:
    return {
        "width": draw(st.sampled_from([0, 3, 8, 12, 16, 24]) if wild else st.sampled_from([4, 8, 12, 16])),
        "depth": draw(st.integers(0 if wild else 1, 2)),
        "stride": draw(st.sampled_from([1, 2, 3]) if wild else st.sampled_from([1, 2])),
        "down": draw(st.sampled_from(["avgpool", "maxpool", "conv"])),
        "conv": draw(conv_specs(wild)),
        "inject": draw(st.booleans()),
        "gaussian": {
            "enabled": draw(st.booleans()),
            "sigmas": draw(
                st.lists(st.sampled_from([0.5, 1.0, 2.0]), min_size=1 if not wild else 0, max_size=3)
            ),
            "learnable": draw(st.booleans()),
            "dog": draw(st.booleans()),
        },
        "dense": {"kind": draw(st.sampled_from(["none", "gc", "fc"])), "reduction": draw(st.integers(1, 4))},
        "fuse_project": draw(st.booleans()),
    }


@st.composite
def config_dicts(draw: st.DrawFn, wild: bool = False) -> dict:
    side = st.sampled_from([4, 16, 20, 32]) if wild else st.sampled_from([16, 20, 32])
    stem = None
    if draw(st.booleans()):
        stem = {
            "width": draw(st.sampled_from([0, 6, 8, 12]) if wild else st.sampled_from([6, 8, 12])),
            "kernel": draw(st.sampled_from([1, 3, 5])),
            "stride": draw(st.sampled_from([1, 2])),
            "conv": draw(conv_specs(wild)),
        }
    if draw(st.booleans()):
        order = draw(st.sampled_from(list(BLOCK_ORDERS)))
    else:  # any arrangement of the six layers, the addition after the second conv (or anywhere, when wild)
        steps = draw(st.permutations(["conv", "bn", "relu", "conv", "bn", "relu"]))
        last_conv = max(i for i, t in enumerate(steps) if t == "conv")
        at = draw(st.integers(0 if wild else last_conv + 1, len(steps)))
        order = "-".join([*steps[:at], "add", *steps[at:]])
    return {
        "input": {
            "channels": draw(st.sampled_from([1, 2, 3]) if wild else st.sampled_from([1, 3, 3])),
            "size": [draw(side), draw(side)],
            "scale": draw(st.sampled_from([1.0, 10.0, 255.0] + ([0.0, -1.0] if wild else []))),
        },
        "stem": stem,
        "stages": draw(st.lists(stage_dicts(wild), min_size=0 if wild else 1, max_size=4)),
        "block": {
            "order": order,
            "kernel": draw(st.sampled_from([1, 3, 5])),
            "norm": draw(st.sampled_from(["batch", "group", "none"])),
            "act": draw(st.sampled_from(["relu", "gelu", "silu"])),
        },
        "inject": {
            "stem": draw(st.booleans()),
            "head": draw(st.booleans()),
            "mode": draw(st.sampled_from(["bicubic", "bilinear", "area"])),
            "antialias": draw(st.booleans()),
            "project": draw(st.booleans()),
        },
        "head": {
            "kind": draw(st.sampled_from(["flatten", "conv1x1"])),
            "widths": draw(st.lists(st.integers(0 if wild else 1, 24), max_size=3)),
        },
        "task": draw(st.sampled_from(["localize", "classify"])),
        "num_classes": draw(st.integers(0 if wild else 1, 5)),
    }


def _run(cfg: ModelConfig) -> None:
    model = build_model(cfg)
    x = torch.rand(2, cfg.input.channels, *cfg.input.size)
    out = model(x)
    assert out.shape == (2, cfg.num_outputs)
    assert len(cfg.stage_shapes()) == len(model.stages)
    feats = model.forward_intermediates(x, intermediates_only=True)
    assert [tuple(f.shape[1:]) for f in feats] == cfg.stage_shapes()  # analytic shapes == real shapes
    out.float().square().mean().backward()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_dicts(wild=False))
def test_random_configs_build_or_refuse_cleanly(data: dict) -> None:
    try:
        cfg = ModelConfig.from_dict(data)
    except ConfigError:
        return
    assert ModelConfig.from_url(cfg.to_url()) == cfg
    _run(cfg)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_dicts(wild=True))
def test_wild_configs_raise_only_config_error(data: dict) -> None:
    try:
        cfg = ModelConfig.from_dict(data)
    except ConfigError as e:
        assert str(e)  # a message, never empty
        return
    _run(cfg)


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=5),
        lambda c: (
            st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["input", "stages", "head", "x"]), c)
        ),
        max_leaves=8,
    )
)
def test_garbage_raises_config_error(data: object) -> None:
    with contextlib.suppress(ConfigError):
        ModelConfig.from_dict(data)  # type: ignore[arg-type]


def test_valid_strategy_really_yields_valid_configs() -> None:
    """Guard against a strategy that only ever produces invalid configs (a test that cannot fail)."""
    built = 0

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(config_dicts(wild=False))
    def count(data: dict) -> None:
        nonlocal built
        try:
            ModelConfig.from_dict(data)
            built += 1
        except ConfigError:
            pass

    count()
    assert built >= 20


# --------------------------------------------------------------------------- hostile text (the input boundary)
_KEYS = [
    "name",
    "task",
    "num_classes",
    "input",
    "scale",
    "size",
    "stages",
    "width",
    "head",
    "widths",
    "block",
    "x",
]
_PIECES = [
    "&a ",
    "*a",
    "<<: *a",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "? [a, b]\n: 1",
    "2020-02-30",
    ".inf",
    ".nan",
    "---\n",
    "\x00",
    "\ud800",
    "\u202e",
    "'",
    '"',
    "{",
    "[",
    "- ",
]


@st.composite
def hostile_yaml(draw: st.DrawFn) -> str:
    """YAML-ish text built from config keys, hostile pieces, deep brackets, long numbers and strings."""
    parts = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 6))
        if kind == 0:
            parts.append(f"{draw(st.sampled_from(_KEYS))}: ")
        elif kind == 1:
            parts.append(draw(st.sampled_from(_PIECES)))
        elif kind == 2:
            n = draw(st.integers(1, 3000))
            parts.append(draw(st.sampled_from(["[", "{a: ", "- ", "  - "])) * n)
        elif kind == 3:
            parts.append(draw(st.sampled_from(["9", "1", "0"])) * draw(st.integers(1, 6000)))
        elif kind == 4:
            parts.append("x" * draw(st.integers(1, 300_000)))
        elif kind == 5:
            parts.append(draw(st.text(max_size=20)))
        else:
            parts.append(draw(st.sampled_from(["\n", "\n  ", ", ", "]", "}"])))
    return "".join(parts)


@st.composite
def hostile_tokens(draw: st.DrawFn) -> str:
    """``v1.`` strings: random bytes, damaged encodings, and compressed payloads up to 50 MB unpacked."""
    import base64
    import zlib

    kind = draw(st.integers(0, 2))
    if kind == 0:
        body = draw(st.binary(max_size=200))
    elif kind == 1:
        unit = draw(st.sampled_from([b"[", b"{", b" ", b"9", b'{"num_classes":', b"\xff"]))
        body = zlib.compress(unit * draw(st.integers(1, 50_000_000)), 9)
    else:
        body = zlib.compress(draw(st.binary(max_size=200)))[: draw(st.integers(0, 220))]
    return "v1." + base64.urlsafe_b64encode(body).decode().rstrip("=")


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(hostile_yaml() | hostile_tokens() | st.text(max_size=200))
def test_hostile_text_is_a_config_or_a_short_config_error_in_bounded_time_and_memory(text: str) -> None:
    import time
    import tracemalloc

    from idfy.ui.state import config_from_text

    tracemalloc.start()
    start = time.perf_counter()
    try:
        cfg = config_from_text(text)
    except ConfigError as e:
        message = str(e)
        assert message and len(message) <= 400 and "\n" not in message
    else:
        assert isinstance(cfg, ModelConfig)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"
