"""Every preset as a timm model ``idfy_<preset>`` (``timm.create_model("idfy_small_tuned", num_classes=42)``).

How the seed's localization task maps onto timm's ``num_classes``: a model built through timm is a
**classifier** by default — its output is (B, num_classes) logits, as timm's training and evaluation scripts,
``reset_classifier`` and ``forward_head`` expect. ``task="localize"`` builds the seed's head instead: (B, 4 +
num_classes), 4 raw box values (:func:`idfy.boxes.decode`) then the class logits; ``num_classes`` still counts
classes, so ``reset_classifier(n)`` gives 4 + n outputs there. ``idfy.build_model(cfg)`` (app, CLI, training)
keeps the preset's own task (``localize``, 5 outputs for the seed presets).

Keyword arguments (all optional): ``num_classes`` (default: the preset's; 0 gives pooled features),
``in_chans`` (1 or 3), ``img_size`` (int or (H, W); it fixes the input of flatten heads, elsewhere it sets the
data config's size), ``task``, ``drop_rate`` (dropout before the output layer), ``global_pool`` (``"avg"`` for
conv1x1 heads only), ``device``, ``dtype``, and timm's own (``features_only``, ``out_indices``,
``feature_cls``, ``pretrained_cfg_overlay``). Anything else is a ``TypeError``.

The ``pretrained_cfg`` describes the network actually built: ``input_size`` (C, H, W), ``fixed_input_size``
(flatten heads), mean 0 / std 1 (the network takes [0, 1] pixels and scales them itself, S9),
``first_conv``, ``classifier``. No weights are published: ``pretrained=True`` raises unless
``pretrained_cfg_overlay=dict(file=...)`` names weights of your own.

Registration lists the preset folder only; a preset's YAML is read when its model is created.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from idfy.config import ModelConfig
from idfy.model import IdfyNet, default_cfg
from idfy.presets import list_presets, load_preset

__all__: list[str] = ["create_idfy", "idfy_config", "register_presets"]

#: what the timm factory builds unless ``task`` is given (see the module docstring for why).
TIMM_DEFAULT_TASK = "classify"
_TASKS = ("classify", "localize")
#: pretrained_cfg keys that point timm's loader at weights.
_WEIGHT_SOURCES = ("file", "url", "hf_hub_id", "state_dict")

#: timm's per-architecture defaults; the preset-specific fields come from the config when a model is created.
default_cfgs: dict[str, dict[str, Any]] = {}


def _img_size(img_size: int | Sequence[int]) -> list[int]:
    if isinstance(img_size, int) and not isinstance(img_size, bool):
        return [img_size, img_size]
    if isinstance(img_size, Sequence) and len(img_size) == 2 and all(isinstance(v, int) for v in img_size):
        return [int(v) for v in img_size]
    raise ValueError(f"img_size={img_size!r}: give one side (int) or (H, W)")


def idfy_config(
    preset: str,
    *,
    num_classes: int | None = None,
    in_chans: int | None = None,
    img_size: int | Sequence[int] | None = None,
    task: str | None = None,
    drop_rate: float | None = None,
) -> ModelConfig:
    """The config ``timm.create_model(f"idfy_{preset}", ...)`` builds, from the same keyword arguments.

    ``task`` defaults to ``classify`` (:data:`TIMM_DEFAULT_TASK`); ``num_classes`` of 0 or ``None`` keeps the
    preset's class count (0 then removes the output layer after building).

    Raises:
        ValueError: unknown ``task``, negative ``num_classes``, malformed ``img_size``;
            :class:`idfy.ConfigError` (a ``ValueError``) for values the design rejects (e.g. ``in_chans=2``,
            an ``img_size`` too small for the stages).
    """
    task = TIMM_DEFAULT_TASK if task is None else task
    if task not in _TASKS:
        raise ValueError(
            f"task={task!r}: choose 'classify' (num_classes logits) or 'localize' (4 box values + logits)"
        )
    if num_classes is not None and num_classes < 0:
        raise ValueError(f"num_classes={num_classes}: must be 0 (pooled features) or a positive class count")
    data = load_preset(preset).to_dict()
    data["task"] = task
    if num_classes:
        data["num_classes"] = num_classes
    if in_chans is not None:
        data["input"]["channels"] = in_chans
    if img_size is not None:
        data["input"]["size"] = _img_size(img_size)
    if drop_rate is not None:
        data["head"]["dropout"] = float(drop_rate)
    return ModelConfig.from_dict(data)


def _build(
    *,
    cfg: ModelConfig,
    num_classes: int | None = None,
    in_chans: int | None = None,
    img_size: int | Sequence[int] | None = None,
    global_pool: str | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> IdfyNet:
    """The model class timm's builder calls: ``cfg`` already holds num_classes, in_chans and img_size (the
    builder passes them again as defaults from the pretrained_cfg; they agree by construction)."""
    del in_chans, img_size
    model = IdfyNet(cfg, device=device, dtype=dtype)
    if num_classes == 0 or global_pool is not None:
        model.reset_classifier(model.num_classes if num_classes is None else num_classes, global_pool)
    return model


def create_idfy(preset: str, pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """Body of every ``idfy_<preset>`` entry point: :func:`idfy_config`, then timm's ``build_model_with_cfg``
    (pretrained_cfg, ``features_only`` wrapping with ``forward_intermediates``, model traits).

    Returns:
        an :class:`idfy.IdfyNet`, or timm's ``FeatureGetterNet`` (``feature_cls="fx"``: ``FeatureGraphNet``)
        with ``features_only=True``.

    Raises:
        ValueError: ``pretrained=True`` without weights of your own, and the errors of :func:`idfy_config`.
        TypeError: an argument the idfy models do not take.
    """
    from timm.models import build_model_with_cfg

    overlay = dict(kwargs.pop("pretrained_cfg_overlay", None) or {})
    if pretrained and not any(overlay.get(k) for k in _WEIGHT_SOURCES):
        raise ValueError(
            f"idfy_{preset}: no pretrained weights are published. Use pretrained=False (train one with "
            "`python -m idfy train`), or load your own with pretrained_cfg_overlay=dict(file='weights.safetensors')"
        )
    names = ("num_classes", "in_chans", "img_size", "task", "drop_rate")
    cfg = idfy_config(preset, **{k: kwargs[k] for k in names if k in kwargs})
    for key in ("task", "drop_rate"):
        kwargs.pop(key, None)
    # timm's train.py passes these (0 or None) to every model; idfy has neither
    for key in ("drop_path_rate", "drop_block_rate"):
        if kwargs.pop(key, None):
            raise ValueError(f"idfy_{preset}: {key}: stochastic depth / DropBlock are not part of the design")
    built = {k: v for k, v in default_cfg(cfg).items() if k != "architecture"}
    if kwargs.get("num_classes") == 0:
        built["num_classes"] = 0
    return build_model_with_cfg(
        _build,
        f"idfy_{preset}",
        pretrained=pretrained,
        pretrained_cfg_overlay={**built, **overlay},
        model_cfg=cfg,
        feature_cfg={"feature_cls": "getter", "out_indices": tuple(range(len(cfg.stages)))},
        **kwargs,
    )


def _entrypoint(preset: str) -> Callable[..., nn.Module]:
    def fn(pretrained: bool = False, **kwargs: Any) -> nn.Module:
        return create_idfy(preset, pretrained=pretrained, **kwargs)

    fn.__name__ = fn.__qualname__ = f"idfy_{preset}"
    fn.__module__ = __name__
    fn.__doc__ = f"idfy preset {preset!r} (presets/{preset}.yaml); see idfy.timm_models for the arguments."
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
            "num_classes": -1,  # the preset's, filled in when a model is created
            "input_size": (3, 224, 224),
            "crop_pct": 1.0,
            "interpolation": "bicubic",
            "mean": (0.0, 0.0, 0.0),
            "std": (1.0, 1.0, 1.0),
            "classifier": "head.fc",
            "license": "apache-2.0",
        }
        fn = _entrypoint(preset)
        setattr(module, name, fn)
        register_model(fn)
        names.append(name)
    return names
