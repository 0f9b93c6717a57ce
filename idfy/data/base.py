"""The in-memory dataset type (:class:`ImageSet`) and on-device batching.

A dataset small enough for a demo lives entirely in one uint8 tensor on the training device;
batches are cut from it with ``index_select`` and converted with tensor ops (no DataLoader,
no per-item Python loop).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision import ops

from idfy.data.augment import random_erase, random_translate, uniform

__all__ = [
    "TASKS",
    "ImageSet",
    "convert_channels",
    "hflip_batch",
    "iterate_batches",
    "masks_to_boxes",
    "resize_images",
    "stable_holdout",
]

TASKS = ("localize", "classify")

# ITU-R BT.601 luma weights, used for every RGB -> gray conversion in this package.
_LUMA = (0.299, 0.587, 0.114)


@dataclass
class ImageSet:
    """A whole dataset held as tensors.

    Attributes:
        images: uint8 ``(N, C, H, W)``, ``C`` is 1 or 3.
        labels: int64 ``(N,)`` class indices into ``classes``.
        boxes: float32 ``(N, 4)`` normalized ``x1, y1, x2, y2`` in [0, 1] with ``x1 < x2`` and
            ``y1 < y2``; ``None`` for classification-only sets.
        classes: class names; ``labels`` index into this list.
        task: ``"localize"`` (boxes present) or ``"classify"``.
        name: a short human-readable name of the source.
        skipped: ``(file name, reason)`` for every item that was left out while loading.
        notes: human-readable remarks about how the data was interpreted.
    """

    images: Tensor
    labels: Tensor
    boxes: Tensor | None
    classes: list[str]
    task: str
    name: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _validate(self)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __repr__(self) -> str:
        return (
            f"ImageSet(name={self.name!r}, task={self.task!r}, n={len(self)}, "
            f"images={tuple(self.images.shape)}, classes={len(self.classes)}, "
            f"device={self.images.device}, skipped={len(self.skipped)})"
        )

    def report(self, max_skipped: int = 5) -> list[str]:
        """One-line strings saying how the data was read, for a console or a page (e.g. ``Start.notes``).

        Every entry of ``notes``, then one ``skipped N items: ...`` line naming the first ``max_skipped``
        skipped items with their reasons (none when nothing was skipped).
        """
        lines = list(self.notes)
        if self.skipped:
            first = "; ".join(f"{key}: {why}" for key, why in self.skipped[:max_skipped])
            more = f" (the first {max_skipped})" if len(self.skipped) > max_skipped else ""
            lines.append(f"skipped {len(self.skipped)} items{more}: {first}")
        return lines

    @property
    def num_classes(self) -> int:
        """Number of classes (``len(classes)``)."""
        return len(self.classes)

    @property
    def channels(self) -> int:
        """Image channels ``C`` (1 or 3)."""
        return int(self.images.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """Image size ``(H, W)``."""
        return int(self.images.shape[2]), int(self.images.shape[3])

    @property
    def device(self) -> torch.device:
        """The device the tensors live on."""
        return self.images.device

    def to(self, device: torch.device | str) -> ImageSet:
        """Return a copy whose tensors live on ``device`` (the lists are shared, not copied)."""
        boxes = None if self.boxes is None else self.boxes.to(device)
        return replace(self, images=self.images.to(device), labels=self.labels.to(device), boxes=boxes)

    def subset(self, idx: Tensor) -> ImageSet:
        """Return the items at ``idx`` (int64 ``(K,)`` indices or bool ``(N,)`` mask), in that order."""
        idx = torch.as_tensor(idx, device=self.images.device)
        if idx.dtype == torch.bool:
            idx = idx.nonzero().flatten()
        idx = idx.long()
        boxes = None if self.boxes is None else self.boxes.index_select(0, idx)
        return replace(
            self,
            images=self.images.index_select(0, idx),
            labels=self.labels.index_select(0, idx),
            boxes=boxes,
            skipped=list(self.skipped),
            notes=list(self.notes),
        )


def _validate(ds: ImageSet) -> None:
    """Check the tensor layout of ``ds``; raise ValueError naming the first problem."""
    im, lab, box = ds.images, ds.labels, ds.boxes
    if im.dtype != torch.uint8 or im.dim() != 4 or im.shape[1] not in (1, 3):
        raise ValueError(f"ImageSet.images must be uint8 (N, 1|3, H, W); got {im.dtype} {tuple(im.shape)}")
    n = im.shape[0]
    if lab.dtype != torch.int64 or tuple(lab.shape) != (n,):
        raise ValueError(f"ImageSet.labels must be int64 ({n},); got {lab.dtype} {tuple(lab.shape)}")
    if ds.task not in TASKS:
        raise ValueError(f"ImageSet.task must be one of {TASKS}; got {ds.task!r}")
    if box is None:
        if ds.task == "localize":
            raise ValueError("ImageSet.task is 'localize' but boxes is None")
    elif box.dtype != torch.float32 or tuple(box.shape) != (n, 4):
        raise ValueError(f"ImageSet.boxes must be float32 ({n}, 4); got {box.dtype} {tuple(box.shape)}")
    if not ds.classes:
        raise ValueError("ImageSet.classes is empty")


def convert_channels(images: Tensor, channels: int | None) -> Tensor:
    """Convert ``(N, C, H, W)`` images to ``channels`` channels (1 <-> 3).

    1 -> 3 repeats the gray plane; 3 -> 1 takes the BT.601 luminance. uint8 input stays uint8
    (rounded), float input stays float. ``None`` or an equal count returns ``images`` unchanged.
    """
    if channels is None or channels == images.shape[1]:
        return images
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    if images.shape[1] == 1:
        return images.expand(-1, 3, -1, -1).contiguous()
    if images.shape[1] != 3:
        raise ValueError(f"cannot convert {images.shape[1]} channels to {channels}")
    w = torch.tensor(_LUMA, device=images.device, dtype=torch.float32).view(1, 3, 1, 1)
    gray = (images.float() * w).sum(dim=1, keepdim=True)
    if images.dtype == torch.uint8:
        return gray.round_().clamp_(0, 255).to(torch.uint8)
    return gray.to(images.dtype)


def resize_images(images: Tensor, size: tuple[int, int] | int) -> Tensor:
    """Resize ``(N, C, H, W)`` images to ``size`` (``(H, W)`` or a square side) with bilinear filtering.

    Antialiasing is used when shrinking. uint8 input gives rounded uint8 output; float input gives
    float output. Normalized boxes need no change.
    """
    hw = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if hw[0] < 1 or hw[1] < 1:
        raise ValueError(f"size must be positive; got {size}")
    if tuple(images.shape[-2:]) == hw:
        return images
    shrink = hw[0] < images.shape[-2] or hw[1] < images.shape[-1]
    x = images.float()
    out = F.interpolate(x, size=hw, mode="bilinear", align_corners=False, antialias=shrink)
    if images.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out.to(images.dtype)


def masks_to_boxes(masks: Tensor) -> Tensor:
    """Tight normalized boxes of non-empty bool masks ``(N, H, W)`` -> float32 ``(N, 4)``.

    ``x1 = col_min / W``, ``x2 = (col_max + 1) / W`` (same for rows with ``H``), so a one-pixel
    mask gives a box one pixel wide; the indices come from ``torchvision.ops.masks_to_boxes``. Raises
    ValueError if a mask is empty.
    """
    n, h, w = masks.shape
    if n and not bool(masks.flatten(1).any(dim=1).all()):
        raise ValueError("masks_to_boxes: a mask is empty")
    pixels = ops.masks_to_boxes(masks)  # first and last pixel index, float32
    return (pixels + pixels.new_tensor([0, 0, 1, 1])) / pixels.new_tensor([w, h, w, h])


def stable_holdout(key: str, percent: int = 20) -> bool:
    """Return True when ``key`` (e.g. a relative file path) falls into the held-out ``percent``.

    The decision depends only on the key (CRC-32), so it is the same on every run and machine.
    """
    return zlib.crc32(key.encode("utf-8")) % 100 < percent


def _order(n: int, shuffle: bool, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """The int64 ``(n,)`` visiting order of one epoch."""
    if not shuffle:
        return torch.arange(n, device=device)
    gen_device = generator.device if generator is not None else device
    return torch.randperm(n, generator=generator, device=gen_device).to(device)


def hflip_batch(images: Tensor, boxes: Tensor | None, flip: Tensor) -> tuple[Tensor, Tensor | None]:
    """Mirror the images where ``flip`` (bool ``(B,)``) is set, and their boxes with them.

    ``images``: ``(B, C, H, W)``; ``boxes``: ``(B, 4)`` normalized xyxy or None.
    A box ``(x1, y1, x2, y2)`` becomes ``(1 - x2, y1, 1 - x1, y2)``.
    """
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    if boxes is not None:
        mirrored = torch.stack((1 - boxes[:, 2], boxes[:, 1], 1 - boxes[:, 0], boxes[:, 3]), dim=1)
        boxes = torch.where(flip.view(-1, 1), mirrored, boxes)
    return images, boxes


def iterate_batches(
    ds: ImageSet,
    batch_size: int,
    *,
    shuffle: bool,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
    augment: bool = False,
    channels: int | None = None,
    size: tuple[int, int] | None = None,
    device: torch.device | str | None = None,
    translate: float = 0.0,
    erase: float = 0.0,
) -> Iterator[tuple[Tensor, Tensor, Tensor | None]]:
    """Yield one epoch of batches cut from the whole on-device tensors of ``ds``.

    Yields ``(images, labels, boxes)``: float32 ``(B, C, H, W)`` in [0, 1], int64 ``(B,)``,
    float32 ``(B, 4)`` or None. Every item is visited exactly once per epoch (the last short
    batch is dropped only with ``drop_last``).

    Args:
        ds: the dataset; if ``device`` differs from its device the set is moved there once.
        batch_size: items per batch (> 0).
        shuffle: visit the items in a random order drawn with ``generator``.
        generator: random source for the order and the augmentation (any device).
        drop_last: drop a final batch smaller than ``batch_size``.
        augment: random horizontal flip (p = 0.5) per item, boxes mirrored accordingly.
        channels: convert to 1 or 3 channels (luminance / repetition).
        size: resize to ``(H, W)`` with ``F.interpolate`` (normalized boxes stay valid).
        device: where to put the set and the batches (default: the set's device).
        translate: random shift of up to this fraction of the side per item (boxes move along); 0 = off.
        erase: probability of random erasing per item (a noise rectangle); 0 = off.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1; got {batch_size}")
    if channels is not None and channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3; got {channels}")
    dev = torch.device(device) if device is not None else ds.images.device
    if ds.images.device != dev:
        ds = ds.to(dev)
    n = len(ds)
    order = _order(n, shuffle, generator, dev)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        if drop_last and idx.numel() < batch_size:
            break
        yield _make_batch(ds, idx, generator, augment, channels, size, translate, erase)


def _make_batch(
    ds: ImageSet,
    idx: Tensor,
    generator: torch.Generator | None,
    augment: bool,
    channels: int | None,
    size: tuple[int, int] | None,
    translate: float = 0.0,
    erase: float = 0.0,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Gather ``idx`` from ``ds``, convert and augment: float images ``(B, C, H, W)``, labels, boxes."""
    images = ds.images.index_select(0, idx).float().div_(255.0)
    labels = ds.labels.index_select(0, idx)
    boxes = None if ds.boxes is None else ds.boxes.index_select(0, idx)
    if channels is not None:
        images = convert_channels(images, channels)
    if size is not None:
        images = resize_images(images, size).clamp_(0.0, 1.0)
    if augment:
        flip = uniform(idx.numel(), generator, images.device) < 0.5
        images, boxes = hflip_batch(images, boxes, flip)
    images, boxes = random_translate(images, boxes, translate, generator)
    images = random_erase(images, erase, generator)
    return images.contiguous(), labels, boxes
