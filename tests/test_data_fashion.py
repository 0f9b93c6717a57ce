"""Fashion-MNIST: IDX reading, ``fashion-mnist``, ``fashion-canvas`` and the missing-files message."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import idfy.data.fashion as fashion
from idfy.data import FASHION_CLASSES, make_dataset, masks_to_boxes, read_idx
from idfy.data.fashion import make_fashion_canvas, render_fashion_canvas

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
needs_system_data = pytest.mark.skipif(
    not SYSTEM_DIR.is_dir(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)


def _idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[arr.dtype]
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def _write_fake_fashion(root: Path, labels: dict[str, list[int]]) -> None:
    """Tiny IDX files: each item is a filled rectangle whose brightness encodes nothing special."""
    rng = np.random.default_rng(0)
    for split, labs in labels.items():
        imgs = np.zeros((len(labs), 28, 28), dtype=np.uint8)
        for i in range(len(labs)):
            x0, y0 = rng.integers(2, 8, size=2)
            x1, y1 = rng.integers(18, 26, size=2)
            imgs[i, y0:y1, x0:x1] = rng.integers(80, 255)
        img_name, lab_name = fashion.FASHION_FILES[split]
        (root / (img_name + ".gz")).write_bytes(gzip.compress(_idx_bytes(imgs)))
        (root / lab_name).write_bytes(_idx_bytes(np.array(labs, dtype=np.uint8)))


@pytest.fixture()
def fake_dir(tmp_path: Path) -> Path:
    _write_fake_fashion(tmp_path, {"train": [0, 1, 2, 3, 4] * 8, "test": [5, 6, 7, 8, 9] * 4})
    return tmp_path


# ----------------------------------------------------------------------------- IDX reader


def test_read_idx_raw_and_gzip(tmp_path: Path) -> None:
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(_idx_bytes(arr))
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx_bytes(arr)))
    assert np.array_equal(read_idx(tmp_path / "a"), arr)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), arr)
    ints = np.array([1, -2, 300], dtype=">i4")
    (tmp_path / "i").write_bytes(_idx_bytes(ints))
    assert read_idx(tmp_path / "i").tolist() == [1, -2, 300]


def test_read_idx_rejects_bad_files(tmp_path: Path) -> None:
    good = _idx_bytes(np.zeros((2, 2), dtype=np.uint8))
    cases = {
        "magic": (b"\x01\x02" + good[2:], "magic"),
        "type": (good[:2] + b"\x07" + good[3:], "type"),
        "short": (good[:-1], "holds"),
        "long": (good + b"\x00", "holds"),
        "header": (good[:6], "truncated"),
    }
    for name, (data, msg) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match=msg):
            read_idx(tmp_path / name)


# ----------------------------------------------------------------------------- file lookup


def test_missing_files_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fashion, "DEFAULT_FASHION_DIR", tmp_path / "no-system-copy")
    monkeypatch.setattr(fashion, "_default_cache_dir", lambda: tmp_path / "cache")
    monkeypatch.delenv("IDFY_DATA_DIR", raising=False)

    def offline(root: Path) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(fashion, "_download", offline)
    for name in ("fashion-canvas", "fashion-mnist"):
        with pytest.raises(FileNotFoundError) as info:
            make_dataset(name, data_dir=tmp_path / "does-not-exist")
        msg = str(info.value)
        assert "--data-dir" in msg and "train-images-idx3-ubyte" in msg
        assert "apt-get install dataset-fashion-mnist" in msg
        assert "internet" in msg and "network is unreachable" in msg
        assert str(tmp_path / "does-not-exist") in msg


def test_lookup_order_data_dir_then_env(
    fake_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fashion, "_download", lambda root: pytest.fail("must not download"))
    images, labels = fashion.load_fashion("train", fake_dir)
    assert images.shape == (40, 28, 28) and labels.dtype == torch.int64
    monkeypatch.setenv("IDFY_DATA_DIR", str(fake_dir))
    assert fashion.find_fashion_files("test", tmp_path / "empty")[0].parent == fake_dir


def test_canvas_with_fake_files_uses_the_right_pool(fake_dir: Path) -> None:
    train = make_fashion_canvas("train", size=32, n=30, seed=0, data_dir=fake_dir)
    test = make_fashion_canvas("test", size=32, n=30, seed=0, data_dir=fake_dir)
    assert set(train.labels.tolist()) <= {0, 1, 2, 3, 4}
    assert set(test.labels.tolist()) <= {5, 6, 7, 8, 9}  # test canvases use only official test items
    assert train.classes == list(FASHION_CLASSES) and train.channels == 1


# ----------------------------------------------------------------------------- real data


@needs_system_data
def test_official_splits_load() -> None:
    images, labels = fashion.load_fashion("train", SYSTEM_DIR)
    assert images.shape == (60000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60000,) and int(labels.max()) == 9
    assert fashion.load_fashion("test", SYSTEM_DIR)[0].shape == (10000, 28, 28)


@needs_system_data
def test_fashion_mnist_classification() -> None:
    ds = make_dataset("fashion-mnist", split="test", size=28, n=100, data_dir=SYSTEM_DIR)
    assert ds.task == "classify" and ds.boxes is None and ds.images.shape == (100, 1, 28, 28)
    raw_images, raw_labels = fashion.load_fashion("test", SYSTEM_DIR)
    assert torch.equal(ds.images[:, 0], raw_images[:100]) and torch.equal(ds.labels, raw_labels[:100])
    big = make_dataset("fashion-mnist", split="train", size=32, n=10, channels=3, data_dir=SYSTEM_DIR)
    assert big.images.shape == (10, 3, 32, 32)


@pytest.fixture(scope="module")
def canvas() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if not SYSTEM_DIR.is_dir():
        pytest.skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
    pool, labels = fashion.load_fashion("test", SYSTEM_DIR)
    return render_fashion_canvas(pool, labels, 200, size=64, seed=3)


@needs_system_data
def test_canvas_boxes_are_tight_around_the_item(canvas: tuple) -> None:
    images, _, masks = canvas
    boxes = masks_to_boxes(masks)
    for img, mask, box in zip(images[:, 0], masks, boxes):
        x1, y1, x2, y2 = (box * 64).round().long().tolist()
        inside = torch.zeros_like(mask)
        inside[y1:y2, x1:x2] = True
        assert not bool((mask & ~inside).any())  # every item pixel lies in the box
        assert bool(mask[y1, x1:x2].any() and mask[y2 - 1, x1:x2].any())  # the box is tight
        assert bool(mask[y1:y2, x1].any() and mask[y1:y2, x2 - 1].any())
        assert bool((img[mask] >= 1).all())
    side = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1)
    assert float(side.min()) >= 0.25 and float(side.max()) <= 0.9


@needs_system_data
def test_canvas_item_stands_out(canvas: tuple) -> None:
    images, _, masks = canvas
    contrast = []
    for img, mask in zip(images[:, 0].float(), masks):
        contrast.append(float((img[mask].mean() - img[~mask].mean()).abs()))
    assert np.median(contrast) > 30


@needs_system_data
def test_canvas_determinism_and_seed_independent_test_split() -> None:
    a = make_dataset("fashion-canvas", split="train", n=40, seed=1, data_dir=SYSTEM_DIR)
    b = make_dataset("fashion-canvas", split="train", n=40, seed=1, data_dir=SYSTEM_DIR)
    c = make_dataset("fashion-canvas", split="train", n=40, seed=2, data_dir=SYSTEM_DIR)
    assert torch.equal(a.images, b.images) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, c.images)
    t0 = make_dataset("fashion-canvas", split="test", n=40, seed=0, data_dir=SYSTEM_DIR)
    t9 = make_dataset("fashion-canvas", split="test", n=40, seed=12345, data_dir=SYSTEM_DIR)
    assert torch.equal(t0.images, t9.images) and torch.equal(t0.labels, t9.labels)
    digests = {hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in a.images}
    assert not digests & {hashlib.sha1(x.numpy().tobytes()).hexdigest() for x in t0.images}


@needs_system_data
def test_canvas_sizes() -> None:
    big = make_dataset("fashion-canvas", split="test", size=224, n=8, channels=3, data_dir=SYSTEM_DIR)
    assert big.images.shape == (8, 3, 224, 224) and big.task == "localize"
    ds = make_dataset("fashion-canvas", split="train", size=64, n=2500, data_dir=SYSTEM_DIR)
    assert len(ds) == 2500 and ds.boxes.shape == (2500, 4)
