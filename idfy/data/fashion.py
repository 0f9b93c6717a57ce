"""Fashion-MNIST: the IDX file reader, ``fashion-mnist`` (classification) and ``fashion-canvas``.

Files are looked up in this order: the ``data_dir`` argument, ``$IDFY_DATA_DIR``,
``/usr/share/datasets/fashion-mnist`` (Debian package ``dataset-fashion-mnist``), a previous
download in ``~/.cache/idfy``; only when all of these lack them, torchvision downloads them into
``~/.cache/idfy``. When that fails too, a FileNotFoundError says how to get them.

``fashion-canvas`` pastes one item, scaled so it spans 30-80% of the canvas, at a random place on a
lightly noisy background among low-contrast fragments cut from other items; its box is the tight
box of the pasted item's nonzero pixels. Rendering is batched (``grid_sample`` over chunks of canvases).
"""

# Just over 500 lines: the IDX reader, both datasets and the batched canvas renderer share the file's helpers.

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .base import ImageSet, convert_channels, masks_to_boxes, resize_images

__all__ = [
    "DEFAULT_FASHION_DIR",
    "FASHION_CLASSES",
    "FASHION_FILES",
    "find_fashion_files",
    "load_fashion",
    "make_fashion_canvas",
    "make_fashion_mnist",
    "read_idx",
    "render_fashion_canvas",
]

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
FASHION_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DEFAULT_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
ENV_DATA_DIR = "IDFY_DATA_DIR"
CANVAS_DEFAULT_N = {"train": 10000, "test": 2000}
CANVAS_TEST_SEED = 20_240_611  # the test canvas never depends on the user's seed
_CHUNK_PIXELS = 256 * 64 * 64  # images per chunk x pixels: keeps the working set cache-sized
_SPAN = (0.30, 0.80)  # the item's larger side as a fraction of the canvas
_FRAGMENTS = 3

# IDX type codes -> numpy big-endian dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MAX_IDX_BYTES = 512 * 2**20


# ----------------------------------------------------------------------------- IDX files


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed, detected from its bytes) into a numpy array.

    Validates the magic number, the type code, the dimensions and the data length; raises
    ValueError naming the file and the problem.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read(_MAX_IDX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path.name}: cannot be read or decompressed ({exc})") from exc
    return _parse_idx(data, path.name)


def _parse_idx(data: bytes, name: str) -> np.ndarray:
    """Parse the bytes of an IDX file (see :func:`read_idx`)."""
    if len(data) > _MAX_IDX_BYTES:
        raise ValueError(f"{name}: larger than {_MAX_IDX_BYTES // 2**20} MB; not a Fashion-MNIST IDX file")
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    code, ndim = data[2], data[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX data type code 0x{code:02x}")
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{name}: IDX header is truncated or has {ndim} dimensions")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    body = memoryview(data)[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(
            f"{name}: IDX header says {dims} ({expected} bytes of data) but the file holds {len(body)} bytes"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "idfy"


def _file_in(directory: Path, base: str) -> Path | None:
    """``directory/base`` or ``directory/base.gz`` (also in torchvision's FashionMNIST/raw layout)."""
    for sub in (directory, directory / "FashionMNIST" / "raw", directory / "fashion-mnist"):
        for name in (base, base + ".gz"):
            if (sub / name).is_file():
                return sub / name
    return None


def _split_files(directory: Path, split: str) -> tuple[Path, Path] | None:
    images = _file_in(directory, FASHION_FILES[split][0])
    labels = _file_in(directory, FASHION_FILES[split][1])
    return (images, labels) if images and labels else None


def _candidate_dirs(data_dir: str | Path | None) -> list[Path]:
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir).expanduser())
    if os.environ.get(ENV_DATA_DIR):
        dirs.append(Path(os.environ[ENV_DATA_DIR]).expanduser())
    dirs += [DEFAULT_FASHION_DIR, _default_cache_dir()]
    return dirs


def _download(root: Path) -> None:
    """Download Fashion-MNIST with torchvision into ``root`` (raises on any failure)."""
    from torchvision.datasets import FashionMNIST  # imported lazily: slow and only needed here

    root.mkdir(parents=True, exist_ok=True)
    for train in (True, False):
        FashionMNIST(str(root), train=train, download=True)


def _how_to(looked: list[Path], reason: str) -> str:
    names = ", ".join(f"{n}(.gz)" for pair in FASHION_FILES.values() for n in pair)
    where = "\n".join(f"  - {p}" for p in looked)
    return (
        "Fashion-MNIST files were not found. Looked in:\n"
        f"{where}\n"
        "Get them in one of these ways:\n"
        f"  1. --data-dir DIR (data_dir=DIR, or the environment variable {ENV_DATA_DIR}), where DIR holds "
        f"{names};\n"
        "  2. sudo apt-get install dataset-fashion-mnist  (puts them in /usr/share/datasets/fashion-mnist);\n"
        f"  3. connect to the internet: torchvision then downloads them once into {_default_cache_dir()}.\n"
        f"Download attempt: {reason}"
    )


def find_fashion_files(
    split: str, data_dir: str | Path | None = None, download: bool = True
) -> tuple[Path, Path]:
    """Locate ``(images, labels)`` IDX files of ``split`` ("train" or "test"), downloading if allowed.

    Raises FileNotFoundError with instructions when they cannot be found or fetched.
    """
    if split not in FASHION_FILES:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    dirs = _candidate_dirs(data_dir)
    for directory in dirs:
        found = _split_files(directory, split)
        if found:
            return found
    if not download:
        raise FileNotFoundError(_how_to(dirs, "not attempted (download=False)"))
    cache = _default_cache_dir()
    try:
        _download(cache)
    except Exception as exc:  # any failure (offline, no torchvision) gets the how-to text
        raise FileNotFoundError(_how_to(dirs, f"failed ({type(exc).__name__}: {exc})")) from exc
    found = _split_files(cache, split)
    if not found:
        raise FileNotFoundError(_how_to(dirs, "finished but the files are still missing"))
    return found


@functools.lru_cache(maxsize=4)
def _load_pair(images_path: str, labels_path: str, _mtime: float) -> tuple[Tensor, Tensor]:
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{Path(images_path).name}: expected uint8 images (N, 28, 28); got {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        count = labels.shape[0] if labels.ndim else 0
        raise ValueError(f"{Path(labels_path).name}: {count} labels for {images.shape[0]} images")
    if labels.size and (labels.min() < 0 or labels.max() >= len(FASHION_CLASSES)):
        raise ValueError(f"{Path(labels_path).name}: labels outside 0..{len(FASHION_CLASSES) - 1}")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def load_fashion(split: str, data_dir: str | Path | None = None) -> tuple[Tensor, Tensor]:
    """The official Fashion-MNIST ``split``: uint8 ``(N, 28, 28)`` images and int64 ``(N,)`` labels.

    The tensors are cached and shared between calls: do not modify them in place.
    """
    return _load_paths(find_fashion_files(split, data_dir))


def _load_paths(paths: tuple[Path, Path]) -> tuple[Tensor, Tensor]:
    images_path, labels_path = paths
    mtime = images_path.stat().st_mtime + labels_path.stat().st_mtime
    return _load_pair(str(images_path), str(labels_path), mtime)


# ----------------------------------------------------------------------------- fashion-mnist


def make_fashion_mnist(
    split: str = "train",
    size: int = 28,
    n: int | None = None,
    seed: int = 0,
    data_dir: str | Path | None = None,
    channels: int | None = None,
) -> ImageSet:
    """Plain Fashion-MNIST classification: uint8 ``(n, 1, size, size)`` images, task "classify".

    ``n`` smaller than the split takes a seeded random subset of train, or the first ``n`` test items
    (the test subset never depends on ``seed``).
    """
    paths = find_fashion_files(split, data_dir)
    images, labels = _load_paths(paths)
    total = images.shape[0]
    idx = torch.arange(total)
    if n is not None and n < total:
        if n < 1:
            raise ValueError(f"n must be >= 1; got {n}")
        if split == "train":
            idx = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n]
        else:
            idx = idx[:n]
    x = images.index_select(0, idx).unsqueeze(1)
    x = convert_channels(resize_images(x, size), channels)
    return ImageSet(
        images=x,
        labels=labels.index_select(0, idx),
        boxes=None,
        classes=list(FASHION_CLASSES),
        task="classify",
        name=f"fashion-mnist/{split}",
        notes=[
            f"official Fashion-MNIST {split} split, {len(idx)} items at {size}x{size}",
            f"files read from {paths[0].parent}",
        ],
    )


# ----------------------------------------------------------------------------- fashion-canvas


def _item_boxes(images: Tensor) -> Tensor:
    """Tight boxes of nonzero pixels of uint8 ``(M, 28, 28)`` items: int64 ``(M, 4)`` c0, r0, c1, r1 (end
    exclusive). An all-zero item gets the full 28x28 box."""
    nz = images > 0
    cols, rows = nz.any(dim=1), nz.any(dim=2)
    w = images.shape[-1]
    c0 = cols.float().argmax(dim=1)
    c1 = w - cols.flip(1).float().argmax(dim=1)
    r0 = rows.float().argmax(dim=1)
    r1 = images.shape[-2] - rows.flip(1).float().argmax(dim=1)
    boxes = torch.stack((c0, r0, c1, r1), dim=1).long()
    empty = ~cols.any(dim=1)
    boxes[empty] = torch.tensor([0, 0, w, images.shape[-2]])
    return boxes


def _affine(scale: Tensor, dst_x: Tensor, dst_y: Tensor, src_x: Tensor, src_y: Tensor, size: int) -> Tensor:
    """Per-image axis-aligned map, float ``(b, 3)`` = (a, tx, ty), from normalized canvas coordinates to
    normalized 28x28 source coordinates (``grid_sample`` convention, align_corners=False):
    ``g = a * o + t``. Canvas position ``dst`` lands on source position ``src``; ``scale`` is canvas
    pixels per source pixel. Positions are continuous pixel coordinates (pixel j covers [j, j+1))."""
    a = size / (28.0 * scale)
    tx = (2.0 / 28.0) * (src_x + (size / 2.0 - dst_x) / scale) - 1.0
    ty = (2.0 / 28.0) * (src_y + (size / 2.0 - dst_y) / scale) - 1.0
    return torch.stack((a, tx, ty), 1)


def _sample(src: Tensor, theta: Tensor, size: int) -> Tensor:
    """Bilinear warp of float ``(b, 28, 28)`` sources to ``(b, 1, S, S)`` canvases (zeros outside).

    The map has no rotation, so the sampling grid is built from two ``(b, S)`` coordinate rows
    (cheaper than ``F.affine_grid``)."""
    b = theta.shape[0]
    o = (torch.arange(size, dtype=torch.float32) * 2.0 + 1.0) / size - 1.0  # pixel centres in [-1, 1]
    gx = theta[:, :1] * o + theta[:, 1:2]  # (b, S)
    gy = theta[:, :1] * o + theta[:, 2:3]
    grid = torch.empty(b, size, size, 2)
    grid[..., 0] = gx.unsqueeze(1)
    grid[..., 1] = gy.unsqueeze(2)
    return F.grid_sample(src.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _canvas_background(gen: torch.Generator, b: int, size: int) -> Tensor:
    """Float ``(b, 1, S, S)`` light noisy background in 0..255 units."""
    base = torch.rand(b, 1, 1, 1, generator=gen) * 50.0
    amp = torch.rand(b, 1, 1, 1, generator=gen) * 25.0
    low = torch.randn(b, 1, 5, 5, generator=gen)
    quarter = max(size // 4, 5)
    smooth = F.interpolate(low, size=(quarter, quarter), mode="bicubic", align_corners=False)
    smooth = F.interpolate(smooth, size=(size, size), mode="bilinear", align_corners=False)
    sigma = 2.0 + torch.rand(b, 1, 1, 1, generator=gen) * 6.0
    noise = torch.randn(b, 1, size, size, generator=gen)
    return (smooth * amp + noise * sigma + base).clamp_(0.0, 255.0)


@dataclass
class _Placement:
    """Where the object goes: its scale and its nominal canvas rectangle ``(b,)`` each, in pixels."""

    scale: Tensor
    x0: Tensor
    y0: Tensor
    x1: Tensor
    y1: Tensor


def _place_object(gen: torch.Generator, box: Tensor, size: int) -> _Placement:
    """Random scale (30-80% of the canvas for the larger side) and position for item boxes ``(b, 4)``."""
    b = box.shape[0]
    bw = (box[:, 2] - box[:, 0]).float()
    bh = (box[:, 3] - box[:, 1]).float()
    span = _SPAN[0] + (_SPAN[1] - _SPAN[0]) * torch.rand(b, generator=gen)
    scale = span * size / torch.maximum(bw, bh)
    pad = 0.5 * scale + 0.5  # bilinear support reaches half a source pixel beyond the box
    hi_x = (size - scale * bw - pad).clamp(min=0)
    hi_y = (size - scale * bh - pad).clamp(min=0)
    lo_x, lo_y = torch.minimum(pad, hi_x), torch.minimum(pad, hi_y)
    x0 = lo_x + (hi_x - lo_x) * torch.rand(b, generator=gen)
    y0 = lo_y + (hi_y - lo_y) * torch.rand(b, generator=gen)
    return _Placement(scale=scale, x0=x0, y0=y0, x1=x0 + scale * bw, y1=y0 + scale * bh)


def _fragments(
    gen: torch.Generator, pool: Tensor, own: Tensor, place: _Placement, size: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Low-contrast crops of other items, placed mostly off the object's box.

    Returns float ``(b*F, 1, S, S)`` fragment layers, bool ``(b*F, 1, S, S)`` footprints and the
    float ``(b*F,)`` contrast of each (0 for fragments that found no free spot), F = ``_FRAGMENTS``.
    """
    b, m, k = own.shape[0], pool.shape[0], _FRAGMENTS
    other = torch.randint(m, (b, k), generator=gen)
    other = torch.where(other == own.view(-1, 1), (other + 1) % m, other).flatten()
    cw = 6 + 6 * torch.rand(b * k, generator=gen)
    ch = 6 + 6 * torch.rand(b * k, generator=gen)
    crops = pool[other]
    sx, sy = _crop_on_outline(gen, _item_boxes(crops).float(), cw, ch)
    scale = place.scale.repeat_interleave(k) * (0.6 + 0.4 * torch.rand(b * k, generator=gen))
    fw, fh = scale * cw, scale * ch
    qx, qy, ok = _free_spot(gen, fw, fh, place, k, size)
    contrast = (0.25 + 0.3 * torch.rand(b * k, generator=gen)) * ok.float()
    contrast = contrast * (torch.rand(b * k, generator=gen) < 0.85).float()
    layer = _sample(crops.float(), _affine(scale, qx, qy, sx, sy, size), size)
    xs = torch.arange(size, dtype=torch.float32) + 0.5
    in_x = (xs >= qx.view(-1, 1)) & (xs < (qx + fw).view(-1, 1))  # (b*F, S)
    in_y = (xs >= qy.view(-1, 1)) & (xs < (qy + fh).view(-1, 1))
    window = (in_y.unsqueeze(2) & in_x.unsqueeze(1)).unsqueeze(1)
    return layer, window & (layer >= 0.5), contrast


def _crop_on_outline(gen: torch.Generator, box: Tensor, cw: Tensor, ch: Tensor) -> tuple[Tensor, Tensor]:
    """Top-left corners ``(n,)`` of ``cw x ch`` crop windows that straddle a random side of each item box
    ``(n, 4)``, so a fragment shows a piece of outline rather than a filled rectangle."""
    n = box.shape[0]
    side = torch.randint(4, (n,), generator=gen)
    t = torch.rand(n, 2, generator=gen)
    along_x = box[:, 0] + (box[:, 2] - box[:, 0] - cw) * t[:, 0]
    along_y = box[:, 1] + (box[:, 3] - box[:, 1] - ch) * t[:, 0]
    out = 0.2 + 0.3 * t[:, 1]  # share of the window outside the item box
    sx = torch.where(
        side == 0, box[:, 0] - out * cw, torch.where(side == 1, box[:, 2] - (1 - out) * cw, along_x)
    )
    sy = torch.where(
        side == 2, box[:, 1] - out * ch, torch.where(side == 3, box[:, 3] - (1 - out) * ch, along_y)
    )
    return sx, sy


def _free_spot(
    gen: torch.Generator, fw: Tensor, fh: Tensor, place: _Placement, k: int, size: int, tries: int = 8
) -> tuple[Tensor, Tensor, Tensor]:
    """Pick, out of ``tries`` random positions, the first whose rectangle overlaps the object's box by
    at most 20% of its own area. Returns x, y ``(b*k,)`` and a bool ``ok`` ``(b*k,)``."""
    n = fw.shape[0]
    qx = torch.rand(n, tries, generator=gen) * (size - fw).clamp(min=0).view(-1, 1)
    qy = torch.rand(n, tries, generator=gen) * (size - fh).clamp(min=0).view(-1, 1)
    ox0, oy0 = place.x0.repeat_interleave(k).view(-1, 1), place.y0.repeat_interleave(k).view(-1, 1)
    ox1, oy1 = place.x1.repeat_interleave(k).view(-1, 1), place.y1.repeat_interleave(k).view(-1, 1)
    ix = (torch.minimum(qx + fw.view(-1, 1), ox1) - torch.maximum(qx, ox0)).clamp(min=0)
    iy = (torch.minimum(qy + fh.view(-1, 1), oy1) - torch.maximum(qy, oy0)).clamp(min=0)
    good = ix * iy <= 0.2 * (fw * fh).view(-1, 1)
    first = good.float().argmax(dim=1, keepdim=True)
    return qx.gather(1, first).flatten(), qy.gather(1, first).flatten(), good.any(dim=1)


def _render_canvas_chunk(
    gen: torch.Generator, pool: Tensor, pool_labels: Tensor, idx: Tensor, size: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Render canvases for pool items ``idx`` ``(b,)``.

    Returns uint8 ``(b, 1, S, S)`` images, int64 ``(b,)`` labels and bool ``(b, S, S)`` masks."""
    b = idx.shape[0]
    src = pool[idx]
    box = _item_boxes(src)
    flip = torch.rand(b, generator=gen) < 0.5
    src = torch.where(flip.view(-1, 1, 1), src.flip(-1), src)
    box[:, 0], box[:, 2] = (
        torch.where(flip, 28 - box[:, 2], box[:, 0]),
        torch.where(flip, 28 - box[:, 0], box[:, 2]),
    )
    place = _place_object(gen, box, size)
    theta = _affine(place.scale, place.x0, place.y0, box[:, 0].float(), box[:, 1].float(), size)
    item = _sample(src.float(), theta, size).round_().clamp_(0.0, 255.0)  # (b, 1, S, S)
    mask = item >= 1.0
    canvas = _canvas_background(gen, b, size)
    layer, foot, contrast = _fragments(gen, pool, idx, place, size)
    for j in range(_FRAGMENTS):
        sl = slice(j, None, _FRAGMENTS)
        c = contrast[sl].view(-1, 1, 1, 1)
        canvas = torch.where(foot[sl], canvas + c * (layer[sl] - canvas), canvas)
    canvas = torch.where(mask, item, canvas)
    return canvas.round_().clamp_(0, 255).to(torch.uint8), pool_labels[idx], mask.squeeze(1)


def _chunk_size(size: int) -> int:
    """Images rendered per chunk at ``size`` x ``size`` (results depend on it: keep it fixed)."""
    return max(8, _CHUNK_PIXELS // (size * size))


def _stream_seed(split: str, seed: int) -> int:
    return CANVAS_TEST_SEED if split == "test" else seed


def render_fashion_canvas(
    pool: Tensor, pool_labels: Tensor, n: int, size: int = 64, seed: int = 0
) -> tuple[Tensor, Tensor, Tensor]:
    """Render ``n`` canvases from the item ``pool`` (uint8 ``(M, 28, 28)``, labels int64 ``(M,)``).

    Returns ``(images, labels, masks)``: uint8 ``(n, 1, size, size)``, int64 ``(n,)`` and bool
    ``(n, size, size)`` (the pasted item's nonzero pixels). Items are visited in seeded random
    order, each once before any repeats.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if size < 16:
        raise ValueError(f"size must be >= 16 pixels for fashion-canvas; got {size}")
    m = pool.shape[0]
    if m < 2:
        raise ValueError("fashion-canvas needs at least 2 source items")
    order_gen = torch.Generator().manual_seed(seed % 2**63)
    order = torch.cat([torch.randperm(m, generator=order_gen) for _ in range(math.ceil(n / m))])[:n]
    parts = []
    chunk = _chunk_size(size)
    for i, start in enumerate(range(0, n, chunk)):
        gen = torch.Generator().manual_seed((seed * 1_000_033 + i * 7919 + 77) % 2**63)
        parts.append(_render_canvas_chunk(gen, pool, pool_labels, order[start : start + chunk], size))
    images, labels, masks = (torch.cat(t) for t in zip(*parts))
    return images, labels, masks


def make_fashion_canvas(
    split: str = "train",
    size: int = 64,
    n: int | None = None,
    seed: int = 0,
    data_dir: str | Path | None = None,
    channels: int | None = None,
) -> ImageSet:
    """``fashion-canvas``: one Fashion-MNIST item per canvas with its exact box, task "localize".

    uint8 ``(n, 1, size, size)`` images (``channels=3`` repeats the plane). The train split uses the
    official train items and ``seed``; the test split uses only the official test items and a fixed
    seed, so it is the same whatever ``seed`` is. Default ``n``: 10000 train, 2000 test.
    """
    if split not in CANVAS_DEFAULT_N:
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}")
    count = CANVAS_DEFAULT_N[split] if n is None else int(n)
    paths = find_fashion_files(split, data_dir)
    pool, pool_labels = _load_paths(paths)
    images, labels, masks = render_fashion_canvas(pool, pool_labels, count, size, _stream_seed(split, seed))
    return ImageSet(
        images=convert_channels(images, channels),
        labels=labels,
        boxes=masks_to_boxes(masks),
        classes=list(FASHION_CLASSES),
        task="localize",
        name=f"fashion-canvas/{split}",
        notes=[
            f"Fashion-MNIST {split} items on a {size}x{size} canvas"
            + (" (fixed seed: the test split ignores `seed`)" if split == "test" else f", seed {seed}"),
            f"files read from {paths[0].parent}",
        ],
    )
