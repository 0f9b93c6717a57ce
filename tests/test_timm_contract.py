"""idfy presets as timm models: the factory's arguments, timm's data config and transforms, the classifier
contract, feature extraction, and tracing / export / compilation — each on every preset where it is cheap,
export, compilation and ONNX on two presets. The README's "Use idfy models in your own code" examples run here."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
import timm
import torch
from PIL import Image
from timm.data import create_transform, resolve_input_data_config, resolve_model_data_config
from torch import nn

import idfy
from idfy import load_preset

PRESETS = idfy.list_presets()
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread: None) -> None:
    """Small models on a shared machine: one thread is faster than two that spin."""


def _flatten(name: str) -> bool:
    return load_preset(name).head.kind == "flatten"


def _small_side(name: str) -> int:
    """A cheap input side the preset works at (divisible by every reduction; flatten heads are built at it)."""
    return 32 if load_preset(name).input.size[0] <= 32 else 64


def _grey(name: str) -> int:
    """1 where the design takes a grey image; 3 for designs whose first grouped conv needs 3 channels."""
    try:
        load_preset(name).set("input.channels", 1)
    except idfy.ConfigError:
        with pytest.raises(idfy.ConfigError, match="input channels"):
            timm.create_model(f"idfy_{name}", in_chans=1)
        return 3
    return 1


def _create(name: str, **kwargs: object) -> nn.Module:
    """A small model: conv heads run at any size; flatten heads are built for the small side."""
    side = _small_side(name)
    kwargs.setdefault("img_size", side)
    return timm.create_model(f"idfy_{name}", **kwargs)


def _x(model: nn.Module, batch: int = 2, side: int | None = None) -> torch.Tensor:
    c, h, w = model.pretrained_cfg["input_size"]
    return torch.rand(batch, c, side or h, side or w, generator=torch.Generator().manual_seed(0))


# ------------------------------------------------------------------ registry and factory arguments
def test_list_models_lists_every_preset() -> None:
    assert timm.list_models("idfy_*") == sorted(f"idfy_{p}" for p in PRESETS)


def test_pretrained_true_is_a_clear_error_not_a_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import timm.models._builder as builder

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to load weights")

    monkeypatch.setattr(builder, "load_pretrained", no_download)
    with pytest.raises(ValueError, match="no pretrained weights are published"):
        timm.create_model("idfy_tiny", pretrained=True)


def test_pretrained_loads_weights_of_your_own(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    model = _create("tiny", num_classes=3).eval()
    path = tmp_path / "w.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    again = _create("tiny", num_classes=3, pretrained=True, pretrained_cfg_overlay={"file": str(path)}).eval()
    x = _x(model)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


@pytest.mark.parametrize("name", PRESETS)
def test_factory_keyword_arguments(name: str) -> None:
    """device/dtype pass through (they raised TypeError); img_size, in_chans, num_classes shape the model
    and its pretrained_cfg (timm-input-config case)."""
    side, chans = {"seed_model1": 40}.get(name, 48), _grey(name)
    model = timm.create_model(
        f"idfy_{name}",
        pretrained=False,
        device="cpu",
        dtype=torch.float64,
        img_size=side,
        in_chans=chans,
        num_classes=7,
    )
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert model.in_chans == chans and model.num_classes == 7 and model.cfg.task == "classify"
    assert model.pretrained_cfg["input_size"] == (chans, side, side)
    assert model.pretrained_cfg["fixed_input_size"] is _flatten(name)
    assert model.pretrained_cfg["mean"] == (0.0,) * chans and model.pretrained_cfg["std"] == (1.0,) * chans
    first = model.pretrained_cfg["first_conv"]
    for conv in (first,) if isinstance(first, str) else first:
        assert model.get_submodule(conv).in_channels == chans
    assert model.get_submodule(model.pretrained_cfg["classifier"]) is model.get_classifier()
    assert model(torch.rand(1, chans, side, side, dtype=torch.float64)).shape == (1, 7)


def test_unknown_arguments_are_errors() -> None:
    with pytest.raises(TypeError):
        timm.create_model("idfy_tiny", bn_eps=1e-3)
    with pytest.raises(ValueError, match="task="):
        timm.create_model("idfy_tiny", task="detect")
    with pytest.raises(ValueError, match="stochastic depth"):
        timm.create_model("idfy_tiny", drop_path_rate=0.1)
    with pytest.raises(idfy.ConfigError, match="channels"):
        timm.create_model("idfy_tiny", in_chans=2)


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("grey", [True, False], ids=["grey", "rgb"])
def test_data_config_and_transform_feed_the_model(name: str, grey: bool) -> None:
    """resolve_model_data_config (and timm's newer resolve_input_data_config) + create_transform on a PIL
    image give what the built model takes: a 160-px seed_model2 used to get 224 px, in_chans=1 got 3."""
    side = {"seed_model1": 40, "seed_model2": 160}.get(name, 48)
    in_chans = _grey(name) if grey else 3
    model = timm.create_model(f"idfy_{name}", img_size=side, in_chans=in_chans).eval()
    img = Image.new("RGB", (300, 200), (90, 140, 200)).convert("RGB" if in_chans == 3 else "L")
    for resolve in (resolve_model_data_config, resolve_input_data_config):
        config = resolve(model)
        assert config["input_size"] == (in_chans, side, side)
        x = create_transform(**config)(img).unsqueeze(0)
        assert x.shape == (1, in_chans, side, side) and x.min() >= 0.0 and x.max() <= 1.0
        with torch.no_grad():
            assert model(x).shape == (1, model.num_classes)


# ------------------------------------------------------------------ the classifier contract
@pytest.mark.parametrize("name", PRESETS)
def test_reset_classifier_and_forward_head(name: str) -> None:
    model = _create(name).eval()
    x = _x(model)
    cfg = load_preset(name)
    assert model.num_classes == cfg.num_classes and model(x).shape == (2, cfg.num_classes)
    feats = model.forward_features(x)
    assert feats.shape[1] == model.num_features
    assert model.forward_head(feats, pre_logits=True).shape == (2, model.head_hidden_size)
    model.reset_classifier(42)
    assert model(x).shape == (2, 42) and model.num_classes == 42 and model.cfg.num_classes == 42
    assert model.get_classifier().out_features == 42
    model.reset_classifier(0)
    assert model(x).shape == (2, model.head_hidden_size) and model.num_classes == 0
    pooled = _create(name, num_classes=0).eval()
    assert pooled(x).shape == (2, pooled.head_hidden_size)


@pytest.mark.parametrize("name", PRESETS)
def test_localize_task_counts_classes(name: str) -> None:
    """task='localize' keeps the seed's head: 4 box values + num_classes logits, also after a reset."""
    model = _create(name, task="localize").eval()
    x = _x(model)
    assert model(x).shape == (2, 4 + load_preset(name).num_classes)
    model.reset_classifier(42)
    assert model(x).shape == (2, 46) and model.num_classes == 42
    model.reset_classifier(0)
    assert model(x).shape == (2, model.head_hidden_size)


def test_seed_presets_keep_five_outputs_through_build_model() -> None:
    for name in ("seed_model1", "seed_model2"):
        cfg = load_preset(name)
        assert idfy.build_model(cfg)(torch.rand(1, 3, *cfg.input.size)).shape == (1, 5)
        assert timm.create_model(f"idfy_{name}", task="localize").num_classes == 1


def test_reset_classifier_rejects_what_it_cannot_do() -> None:
    model = _create("tiny")
    with pytest.raises(ValueError, match="num_classes=-1"):
        model.reset_classifier(-1)
    with pytest.raises(ValueError, match="pooling is fixed"):
        model.reset_classifier(5, global_pool="max")
    model.reset_classifier(5, global_pool="avg")
    with pytest.raises(ValueError, match="pooling is fixed"):
        _create("seed_model2").reset_classifier(5, global_pool="avg")


def test_timm_training_conventions() -> None:
    """What timm's train.py does: its default keyword arguments, the data config, training transforms,
    Mixup with num_classes soft targets and a timm optimizer — no idfy-specific step."""
    from timm.data import Mixup
    from timm.loss import SoftTargetCrossEntropy
    from timm.optim import create_optimizer_v2

    model = timm.create_model(
        "idfy_tiny_tuned",
        pretrained=False,
        in_chans=None,
        num_classes=6,
        drop_rate=0.1,
        drop_path_rate=None,
        drop_block_rate=None,
        global_pool=None,
        bn_momentum=None,
        bn_eps=None,
        img_size=64,
    )
    config = resolve_model_data_config(model)
    train_tf = create_transform(**config, is_training=True)
    gen = torch.Generator().manual_seed(0)
    images = [Image.fromarray((torch.rand(70, 90, 3, generator=gen) * 255).byte().numpy()) for _ in range(4)]
    x = torch.stack([train_tf(im) for im in images])
    y = torch.tensor([0, 1, 2, 5])
    mixup = Mixup(mixup_alpha=0.2, num_classes=model.num_classes)
    x, target = mixup(x, y)
    opt = create_optimizer_v2(model, "sgd", lr=0.05)
    loss = SoftTargetCrossEntropy()(model(x), target)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and model.cfg.head.dropout == 0.1


# ------------------------------------------------------------------ features
@pytest.mark.parametrize("name", PRESETS)
def test_features_only_matches_feature_info_at_two_sizes(name: str) -> None:
    n = len(load_preset(name).stages)
    for out_indices, sides in ((tuple(range(n)), (224, 96)), ((-1,), (64,))):
        extractor = timm.create_model(f"idfy_{name}", features_only=True, out_indices=out_indices).eval()
        info = extractor.feature_info
        assert len(info.channels()) == len(out_indices)
        for side in sides:
            with torch.no_grad():
                maps = extractor(torch.rand(1, 3, side, side))
            assert [m.shape[1] for m in maps] == info.channels()
            assert [(m.shape[2], m.shape[3]) for m in maps] == [
                (side // r, side // r) for r in info.reduction()
            ]


@pytest.mark.parametrize("name", PRESETS)
def test_forward_intermediates(name: str) -> None:
    model = _create(name).eval()
    x = _x(model)
    with torch.no_grad():
        final, maps = model.forward_intermediates(x)
        torch.testing.assert_close(final, model.forward_features(x))
        assert [m.shape[1] for m in maps] == [f["num_chs"] for f in model.feature_info]
        last = model.forward_intermediates(x, indices=1, intermediates_only=True)
        torch.testing.assert_close(last[0], maps[-1])
    with pytest.raises(ValueError, match="out of range"):
        model.forward_intermediates(x, indices=[len(maps)])


@pytest.mark.parametrize("name", PRESETS)
def test_backward_reaches_every_parameter(name: str) -> None:
    model = _create(name, num_classes=5).train()
    model(_x(model)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


# ------------------------------------------------------------------ tracing, scripting, export
@pytest.mark.parametrize("name", PRESETS)
def test_fx_trace_torchvision_extractor_and_script(name: str) -> None:
    """torch.fx used to fail with 'Proxy object cannot be iterated' (shape unpacking), torch.jit.script on the
    injection resize's keyword-only defaults."""
    from torchvision.models.feature_extraction import create_feature_extractor

    model = _create(name).eval()
    x = _x(model)
    with torch.no_grad():
        want = model(x)
        torch.testing.assert_close(torch.fx.symbolic_trace(model)(x), want, rtol=0, atol=1e-5)
        last = f"stages.{len(model.stages) - 1}"
        got = create_feature_extractor(model, return_nodes={last: "last"})(x)["last"]
        torch.testing.assert_close(got, model.forward_intermediates(x, indices=1, intermediates_only=True)[0])
        fx_feats = timm.create_model(f"idfy_{name}", features_only=True, feature_cls="fx").eval()
        assert [m.shape[1] for m in fx_feats(x)] == fx_feats.feature_info.channels()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream
            scripted = torch.jit.script(model)
        torch.testing.assert_close(scripted(x), want, rtol=0, atol=1e-5)


def _export(model: nn.Module, x: torch.Tensor) -> torch.export.ExportedProgram:
    return torch.export.export(model, (x,), dynamic_shapes=({0: torch.export.Dim("batch")},))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["seed_model2", "full"])
def test_export_with_dynamic_batch(name: str) -> None:
    model = _create(name).eval()
    program = _export(model, _x(model))
    for batch in (1, 5):
        x = _x(model, batch=batch)
        with torch.no_grad():
            torch.testing.assert_close(program.module()(x), model(x), rtol=0, atol=1e-5)


@pytest.mark.slow
def test_compile_fullgraph_without_graph_breaks() -> None:
    """fullgraph=True fails on any graph break. Graph breaks are dynamo's (the capture), whatever the backend:
    the eager backend checks them without inductor's minutes of C++ compilation on a CPU."""
    model = _create("full").eval()
    x = _x(model)
    torch._dynamo.reset()
    try:
        with torch.no_grad():
            got = torch.compile(model, fullgraph=True, backend="eager")(x)
    finally:
        torch._dynamo.reset()
    torch.testing.assert_close(got, model(x), rtol=0, atol=1e-5)


# ------------------------------------------------------------------ the README's examples, as written
def _readme_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_readme_has_the_examples() -> None:
    blocks = _readme_blocks("Use idfy models in your own code")
    assert len(blocks) == 3
    assert any("timm.create_model" in b for b in _readme_blocks("In Python"))


def _run_readme_example(index: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Run example ``index`` as written (in the current folder) -> its globals. ``torch.compile`` gets the
    eager backend (see test_compile_fullgraph_without_graph_breaks)."""
    code = _readme_blocks("Use idfy models in your own code")[index]
    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m, **kw: compile_(m, **{**kw, "backend": "eager"}))
    scope: dict[str, object] = {}
    torch._dynamo.reset()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, f"README example {index + 1}", "exec"), scope)
    finally:
        torch._dynamo.reset()
    return scope


@pytest.mark.parametrize("index", [0, 1])
def test_readme_example_runs(
    index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scope = _run_readme_example(index, monkeypatch)
    out = capsys.readouterr().out
    if index == 0:
        assert "torch.Size([1, 42])" in out and scope["model"].num_classes == 0
    else:
        assert scope["backbone"].feature_info.channels() == [48, 96]


@pytest.mark.slow
def test_readme_export_example_and_onnx_from_the_exported_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export example runs; its ONNX file (made from the exported program) matches PyTorch in
    onnxruntime at another batch size than the traced one."""
    ort = pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    scope = _run_readme_example(2, monkeypatch)
    model = scope["model"]
    sess = ort.InferenceSession(str(tmp_path / "idfy_tiny_tuned.onnx"), providers=["CPUExecutionProvider"])
    x = _x(model, batch=3, side=96)
    got = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(got), model(x), rtol=1e-4, atol=1e-4)


def test_readme_in_python_timm_example_runs() -> None:
    code = next(b for b in _readme_blocks("In Python") if "timm.create_model" in b)
    scope: dict[str, object] = {}
    exec(compile(code, "README In Python (timm)", "exec"), scope)
    assert scope["m"](torch.rand(1, 1, 224, 224)).shape == (1, 10)
    assert scope["loc"](torch.rand(1, 3, 224, 224)).shape == (1, 5)
