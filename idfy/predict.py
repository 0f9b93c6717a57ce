"""Image in -> the seed's 5-tuple (x1, y1, x2, y2, label), class probabilities, what each stage sees.

>>> p = Predictor.from_checkpoint("runs/small-shapes-64")
>>> pred = p.predict("assets/examples/shapes_star.png")
>>> pred.tuple_pixels, pred.class_name, pred.score
>>> draw_overlay(p.load("assets/examples/shapes_star.png"), pred).save("overlay.png")

Images of any size are resized (plainly, no letterbox) to the model's input size; the box comes back in
normalized coordinates and in pixels of the *original* image. Float and wide-integer pixels (files, arrays,
tensors) are read by the range rule of :mod:`idfy.data.pixels`: [0, 1] within 0.01, else 0..255, else an
:class:`idfy.data.ImageError` -- never a silent clamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor, nn

from idfy.boxes import decode
from idfy.config import ModelConfig
from idfy.data import ImageError, convert_channels, decode_image, resize_images
from idfy.data.images import decode_pil
from idfy.data.pixels import pixels_to_uint8
from idfy.device import resolve_device
from idfy.layers import ImageInjection
from idfy.model import build_model
from idfy.train.checkpoint import load_checkpoint, load_model_weights, model_config_of

__all__ = ["Prediction", "Predictor", "StageView", "draw_overlay", "to_uint8_chw"]

_TOP_K = 4


@dataclass
class StageView:
    """What one place of the network sees, for a single image.

    Attributes:
        name: module name (``stem``, ``stages.0``, ..., ``head_inject``).
        injected: float32 (C_img, h, w) in [0, 1]: the original image resized as it is concatenated here
            (S1 re-injection), or None when this place injects nothing.
        features: float32 (h, w) mean over the channels of the module's output map, or None (``head_inject``).
        top: float32 (k, h, w) the k channels with the largest mean |activation|; ``top_channels`` their indices.
        shape: (C, h, w) of the output map (of the injected image for ``head_inject``).
    """

    name: str
    injected: np.ndarray | None
    features: np.ndarray | None
    top: np.ndarray | None
    top_channels: list[int]
    shape: tuple[int, int, int]


@dataclass
class Prediction:
    """One image's prediction.

    ``box``: normalized (x1, y1, x2, y2) in [0, 1]; ``box_pixels``: the same in pixels of the original image
    (``image_size`` = (H, W)); both None for a classification model. ``tuple`` / ``tuple_pixels``: the seed's
    5-tuple (x1, y1, x2, y2, label). ``probs``: class name -> probability. ``notes``: how the input was read
    (e.g. "float pixels read as 0..255", an EXIF rotation).
    """

    box: tuple[float, float, float, float] | None
    box_pixels: tuple[float, float, float, float] | None
    label: int
    class_name: str
    score: float
    probs: dict[str, float]
    image_size: tuple[int, int]
    stage_views: list[StageView] = field(default_factory=list, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def tuple(self) -> tuple[float, float, float, float, int] | None:
        """(x1, y1, x2, y2, label), normalized."""
        return (*self.box, self.label) if self.box is not None else None

    @property
    def tuple_pixels(self) -> tuple[float, float, float, float, int] | None:
        """(x1, y1, x2, y2, label) in pixels of the original image."""
        return (*self.box_pixels, self.label) if self.box_pixels is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no feature maps)."""
        return {
            "label": self.label,
            "class_name": self.class_name,
            "score": self.score,
            "box": list(self.box) if self.box is not None else None,
            "box_pixels": list(self.box_pixels) if self.box_pixels is not None else None,
            "tuple": list(self.tuple) if self.tuple is not None else None,
            "tuple_pixels": list(self.tuple_pixels) if self.tuple_pixels is not None else None,
            "image_size": list(self.image_size),
            "probs": self.probs,
            "notes": list(self.notes),
        }


def to_uint8_chw(image: Any, channels: int, notes: list[str] | None = None) -> Tensor:
    """Any accepted image -> uint8 ``(channels, H, W)``.

    Accepted: a path or the file's bytes (decoded by :func:`idfy.data.decode_image`), a PIL image (by the same
    rules, :func:`idfy.data.images.decode_pil`), a numpy array ``(H, W)`` / ``(H, W, 1|3|4)`` (a fourth
    channel is alpha, composited on white) or a tensor ``(H, W)`` / ``(C, H, W)`` with ``C`` 1 or 3. uint8
    pixels are taken as they are; float, bool and wider integer pixels follow :mod:`idfy.data.pixels`
    (float: [0, 1] within 0.01, else 0..255 within 0.5, else refused).

    Args:
        notes: when given, what was done to read the input is appended (scale assumed, EXIF rotation, ...).

    Raises:
        ImageError: a file that is not a usable image, an unsupported shape or type, NaN / infinite pixels or
            a value range that fits no rule (one line saying what to change).
    """

    said = notes if notes is not None else []
    if isinstance(image, (str, Path, bytes, bytearray, memoryview)):
        src = bytes(image) if isinstance(image, (bytearray, memoryview)) else image
        dec = decode_image(src, channels=channels)
        said.extend(dec.notes)
        return dec.image
    if isinstance(image, Image.Image):
        dec = decode_pil(image, channels=channels)  # EXIF, alpha and 16-bit / float rules as for files
        said.extend(dec.notes)
        return dec.image
    if isinstance(image, np.ndarray):
        arr = image[:, :, None] if image.ndim == 2 else image
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise ImageError(f"expected an (H, W) or (H, W, 1|3|4) array; got shape {image.shape}")
        if arr.dtype != np.uint8:
            arr, note = pixels_to_uint8(arr, "the image")
            if note:
                said.append(note)
        if arr.shape[2] == 4:  # RGBA: on white, as a file's transparency is
            alpha = arr[:, :, 3:].astype(np.float32) / 255.0
            arr = np.rint(arr[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
            said.append("transparent pixels composited on white")
        image = torch.from_numpy(np.array(arr)).permute(2, 0, 1)  # a writable copy
    if not isinstance(image, Tensor):
        raise ImageError(f"cannot read an image from {type(image).__name__}; give a path, bytes or an array")
    t = image.detach().cpu()
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ImageError(f"expected a (C, H, W) tensor with C = 1 or 3; got shape {tuple(t.shape)}")
    if t.dtype != torch.uint8:
        if t.is_complex():
            raise ImageError(f"pixels of type {t.dtype} are not real numbers; give uint8 or float pixels")
        if t.is_floating_point() and t.dtype != torch.float64:
            t = t.float()  # numpy has no bfloat16
        u8, note = pixels_to_uint8(t.numpy(), "the image")
        t = torch.from_numpy(u8)
        if note:
            said.append(note)
    return convert_channels(t.unsqueeze(0), channels)[0]


class Predictor:
    """A trained network ready to predict single images."""

    def __init__(self, model: nn.Module, cfg: ModelConfig, classes: list[str], device: torch.device) -> None:
        if len(classes) != cfg.num_classes:
            raise ValueError(f"{len(classes)} class names for a model with {cfg.num_classes} classes")
        self.model = model.to(device).eval()
        self.cfg = cfg
        self.classes = list(classes)
        self.device = device

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto") -> Predictor:
        """Load a checkpoint file or run folder (``best.pt`` first) with ``weights_only=True``.

        Raises:
            FileNotFoundError: no such file / no checkpoint in the folder.
            ValueError: the file is not a usable idfy checkpoint (:class:`idfy.train.checkpoint.CheckpointError`,
                one line naming the file and what to do) or its design is invalid (``ConfigError``).
        """

        return cls.from_loaded(load_checkpoint(path, map_location="cpu"), device)

    @classmethod
    def from_loaded(cls, ckpt: dict[str, Any], device: str = "auto") -> Predictor:
        """A predictor from a checkpoint already read by :func:`idfy.train.checkpoint.load_checkpoint` (verified).

        Raises:
            ValueError: the weights do not fit its design (``CheckpointError``) or the design is invalid.
        """

        dev = resolve_device(device)
        cfg = model_config_of(ckpt)
        model = build_model(cfg)
        load_model_weights(model, ckpt)
        classes = list(ckpt.get("classes") or [f"class {i}" for i in range(cfg.num_classes)])
        return cls(model, cfg, classes, dev)

    @classmethod
    def from_model(cls, model: nn.Module, classes: list[str] | None = None) -> Predictor:
        """Wrap an :class:`idfy.model.IdfyNet` (e.g. ``Done.model`` of a training run)."""
        cfg: ModelConfig = model.cfg  # type: ignore[assignment]
        names = classes or [f"class {i}" for i in range(cfg.num_classes)]
        return cls(model, cfg, names, next(model.parameters()).device)

    def load(self, image: Any, notes: list[str] | None = None) -> Tensor:
        """Any accepted image (see :func:`to_uint8_chw`) -> uint8 (C, H, W) with the model's channel count.

        ``notes``, when given, receives what was done to read it. Raises ImageError on unusable input."""
        return to_uint8_chw(image, self.cfg.input.channels, notes)

    def model_input(self, image: Any) -> Tensor:
        """The (1, C, H, W) float batch in [0, 1] the model sees (resized to its input size)."""

        x = self.load(image).unsqueeze(0).float().div_(255.0)
        return resize_images(x, tuple(self.cfg.input.size)).clamp_(0, 1).to(self.device)

    @torch.inference_mode()
    def predict(self, image: Any, *, stage_views: bool = True) -> Prediction:
        """Predict one image (path, bytes, PIL, array or tensor; any size). ``stage_views`` also collects
        what each stage sees (forward hooks; a little slower)."""
        notes: list[str] = []
        img = self.load(image, notes)
        h, w = int(img.shape[-2]), int(img.shape[-1])
        x = self.model_input(img)
        views: list[StageView] = []
        hooks = _register_view_hooks(self.model, float(self.cfg.input.scale), views) if stage_views else []
        try:
            out = self.model(x)
        finally:
            for hk in hooks:
                hk.remove()
        d = decode(out, self.cfg.task)
        label = int(d.labels[0])
        box = box_px = None
        if d.boxes is not None:
            b = [float(v) for v in d.boxes[0].cpu()]
            box = (b[0], b[1], b[2], b[3])
            box_px = (b[0] * w, b[1] * h, b[2] * w, b[3] * h)
        probs = d.probs[0].cpu().tolist()
        return Prediction(
            box=box,
            box_pixels=box_px,
            label=label,
            class_name=self.classes[label],
            score=float(d.scores[0]),
            probs=dict(zip(self.classes, probs)),
            image_size=(h, w),
            stage_views=_merge_views(views),
            notes=notes,
        )


def _register_view_hooks(model: nn.Module, scale: float, views: list[StageView]) -> list[Any]:
    """Hooks on ``*.inject`` / ``head_inject`` (the resized image) and ``stem`` / ``stages.{i}`` (feature maps)."""

    hooks = []
    for name, mod in model.named_modules():
        if isinstance(mod, ImageInjection):
            owner = name.removesuffix(".inject")

            def pre(m: ImageInjection, args: tuple[Tensor, ...], owner: str = owner) -> None:
                x, img = args[0], args[1]
                seen = (m.resized(x, img)[0].float() / scale).clamp(0, 1).cpu().numpy()
                views.append(StageView(owner, seen, None, None, [], tuple(seen.shape)))

            hooks.append(mod.register_forward_pre_hook(pre))
        elif name == "stem" or (name.startswith("stages.") and name.count(".") == 1):

            def post(m: nn.Module, args: Any, out: Tensor, name: str = name) -> None:
                f = out[0].float()
                strength = f.abs().mean(dim=(1, 2))
                k = min(_TOP_K, f.shape[0])
                idx = strength.topk(k).indices
                views.append(
                    StageView(
                        name,
                        None,
                        f.mean(0).cpu().numpy(),
                        f[idx].cpu().numpy(),
                        idx.tolist(),
                        (int(f.shape[0]), int(f.shape[1]), int(f.shape[2])),
                    )
                )

            hooks.append(mod.register_forward_hook(post))
    return hooks


def _merge_views(views: list[StageView]) -> list[StageView]:
    """One view per place, in forward order: a stage's injected image joined with its feature maps."""
    merged: dict[str, StageView] = {}
    for v in views:
        cur = merged.get(v.name)
        if cur is None:
            merged[v.name] = v
        elif v.features is not None:
            cur.features, cur.top, cur.top_channels, cur.shape = v.features, v.top, v.top_channels, v.shape
        else:
            cur.injected = v.injected
    return list(merged.values())


def draw_overlay(image: Any, prediction: Prediction, *, min_side: int = 256) -> Image.Image:
    """The image with the predicted box and ``class score`` drawn on it (RGB PIL image).

    Images smaller than ``min_side`` are enlarged (nearest neighbour) so the label stays readable.
    """
    arr = to_uint8_chw(image, 3).permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr, "RGB")
    h, w = prediction.image_size
    if (pil.height, pil.width) != (h, w):
        raise ValueError(f"image is {pil.height}×{pil.width} but the prediction was made for {h}×{w}")
    f = max(1, -(-min_side // max(1, min(h, w))))
    if f > 1:
        pil = pil.resize((w * f, h * f), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(pil)
    text = f"{prediction.class_name} {prediction.score:.2f}"
    font = _font(max(12, pil.height // 20))
    lw = max(2, pil.height // 128)
    if prediction.box_pixels is not None:
        x1, y1, x2, y2 = (v * f for v in prediction.box_pixels)
        draw.rectangle((x1, y1, x2, y2), outline=(255, 40, 40), width=lw)
        tx, ty = x1, y1
    else:
        tx, ty = 0.0, 0.0
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tw, th = right - left + 2 * lw, bottom - top + 2 * lw
    ty = ty - th if ty - th >= 0 else ty  # above the box when there is room, else inside it
    tx = min(max(0.0, tx), max(0.0, pil.width - tw))
    draw.rectangle((tx, ty, tx + tw, ty + th), fill=(255, 40, 40))
    draw.text((tx + lw - left, ty + lw - top), text, fill=(255, 255, 255), font=font)
    return pil


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()
