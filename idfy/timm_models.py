"""Register every preset with timm as ``idfy_<preset>`` (e.g. ``timm.create_model("idfy_seed_model2")``).

Registration lists the preset folder only; a preset's YAML is read when its model is created. Keyword
arguments: ``num_classes``, ``in_chans``, ``img_size`` (int or (H, W)), ``task`` (``localize``/``classify``),
plus timm's own (``features_only``, ``out_indices``). The model is exactly ``build_model(load_preset(name))``
when no argument changes it; a ``localize`` model outputs 4 box values + ``num_classes`` logits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from idfy.config import ModelConfig
from idfy.model import IdfyNet, default_cfg
from idfy.presets import list_presets, load_preset

__all__: list[str] = ["create_idfy", "register_presets"]

default_cfgs: dict[str, dict[str, Any]] = {}


def _model_from_preset(
    *,
    preset: str,
    num_classes: int | None = None,
    in_chans: int | None = None,
    img_size: int | tuple[int, int] | None = None,
    task: str | None = None,
) -> IdfyNet:
    cfg: ModelConfig = load_preset(preset)
    data = cfg.to_dict()
    if num_classes is not None and num_classes > 0:
        data["num_classes"] = num_classes
    if in_chans is not None:
        data["input"]["channels"] = in_chans
    if img_size is not None:
        data["input"]["size"] = [img_size, img_size] if isinstance(img_size, int) else list(img_size)
    if task is not None:
        data["task"] = task
    model = IdfyNet(ModelConfig.from_dict(data))
    if num_classes == 0:
        model.reset_classifier(0)
    return model


def create_idfy(preset: str, pretrained: bool = False, **kwargs: Any) -> IdfyNet:
    """timm entry point body: build preset ``preset`` through timm's builder (features_only etc.)."""
    from timm.models import build_model_with_cfg

    if pretrained:
        raise ValueError("idfy models have no pretrained weights; train one with `python -m idfy train`")
    cfg = load_preset(preset)
    overlay = {k: v for k, v in default_cfg(cfg).items() if k != "architecture"}
    overlay.update(kwargs.pop("pretrained_cfg_overlay", None) or {})
    kwargs.pop("pretrained_cfg", None)
    return build_model_with_cfg(
        _model_from_preset,
        f"idfy_{preset}",
        pretrained=False,
        pretrained_cfg_overlay=overlay,
        feature_cfg={"feature_cls": "getter", "out_indices": tuple(range(len(cfg.stages)))},
        preset=preset,
        **kwargs,
    )


def _entrypoint(preset: str) -> Callable[..., IdfyNet]:
    def fn(pretrained: bool = False, **kwargs: Any) -> IdfyNet:
        return create_idfy(preset, pretrained=pretrained, **kwargs)

    fn.__name__ = fn.__qualname__ = f"idfy_{preset}"
    fn.__module__ = __name__
    fn.__doc__ = f"idfy preset {preset!r} (see presets/{preset}.yaml)."
    return fn


def register_presets() -> list[str]:
    """Register (or refresh) ``idfy_<preset>`` for every bundled preset; returns the registered names."""
    from timm.models import register_model

    names = []
    module = sys.modules[__name__]
    for preset in list_presets():
        name = f"idfy_{preset}"
        default_cfgs[name] = {
            "url": "",
            "num_classes": -1,
            "input_size": (3, 224, 224),
            "classifier": "head.fc",
        }
        fn = _entrypoint(preset)
        setattr(module, name, fn)
        register_model(fn)
        names.append(name)
    return names
