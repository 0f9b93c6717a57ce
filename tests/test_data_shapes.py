"""The procedural ``shapes`` dataset (idfy.data.shapes)."""

from __future__ import annotations

import hashlib

import pytest
import torch

from idfy.data import SHAPE_CLASSES, make_dataset, masks_to_boxes, render_shapes
from idfy.data.shapes import make_shapes


def _digests(images: torch.Tensor) -> set[str]:
    return {hashlib.sha1(img.numpy().tobytes()).hexdigest() for img in images}


@pytest.fixture(scope="module")
def rendered() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return render_shapes(300, size=64, seed=5)


def test_layout_and_classes(rendered: tuple) -> None:
    images, labels, masks = rendered
    assert images.dtype == torch.uint8 and images.shape == (300, 3, 64, 64)
    assert labels.dtype == torch.int64 and masks.dtype == torch.bool and masks.shape == (300, 64, 64)
    assert len(SHAPE_CLASSES) >= 6
    assert set(labels.tolist()) == set(range(len(SHAPE_CLASSES)))


def test_boxes_are_tight_boxes_of_the_masks(rendered: tuple) -> None:
    _, _, masks = rendered
    boxes = masks_to_boxes(masks)
    size = 64
    for mask, box in zip(masks, boxes):
        rows = mask.any(dim=1).nonzero().flatten()
        cols = mask.any(dim=0).nonzero().flatten()
        expected = torch.tensor(
            [cols[0] / size, rows[0] / size, (cols[-1] + 1) / size, (rows[-1] + 1) / size],
            dtype=torch.float32,
        )
        assert torch.equal(box, expected)
    assert bool((boxes[:, 0] < boxes[:, 2]).all() and (boxes[:, 1] < boxes[:, 3]).all())
    assert float(boxes.min()) >= 0.0 and float(boxes.max()) <= 1.0
    side = (boxes[:, 2:] - boxes[:, :2]).amax(dim=1)
    assert float(side.min()) >= 0.15 and float(side.max()) <= 0.7  # object diameter 25-65 % of the side


def test_boxes_match_the_drawn_pixels(rendered: tuple) -> None:
    """The pixels on each edge of the box carry the object's colour; the ring just outside it mostly does not."""
    images, _, masks = rendered
    x = images.float() / 255
    boxes = (masks_to_boxes(masks) * 64).round().long()
    for img, mask, (x1, y1, x2, y2) in zip(x, masks, boxes.tolist()):
        colour = img[:, mask].median(dim=1).values.view(3, 1)
        for edge in (mask[y1, :], mask[y2 - 1, :], mask[:, x1], mask[:, x2 - 1]):
            assert bool(edge.any())  # the box touches the drawn object on all four sides
        edges = mask.clone()
        edges[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1] = False
        close = ((img[:, edges] - colour).abs().amax(dim=0) < 0.3).float().mean()
        assert float(close) >= 0.9
        ring = torch.zeros(64, 64, dtype=torch.bool)
        ring[max(y1 - 1, 0) : y2 + 1, max(x1 - 1, 0) : x2 + 1] = True
        ring[y1:y2, x1:x2] = False
        if ring.any():
            alike = ((img[:, ring] - colour).abs().amax(dim=0) < 0.1).float().mean()
            assert float(alike) < 0.5


def test_make_shapes_matches_render() -> None:
    ds = make_shapes("train", size=48, n=40, seed=5)
    images, labels, masks = render_shapes(40, size=48, seed=5)
    assert torch.equal(ds.images, images) and torch.equal(ds.labels, labels)
    assert torch.equal(ds.boxes, masks_to_boxes(masks))
    assert ds.task == "localize" and ds.classes == list(SHAPE_CLASSES) and ds.channels == 3


def test_object_differs_from_background(rendered: tuple) -> None:
    images, _, masks = rendered
    x = images.float() / 255
    boxes = masks_to_boxes(masks)
    distinct = 0
    for img, mask, box in zip(x, masks, boxes):
        inside = img[:, mask].mean(dim=1)
        x1, y1, x2, y2 = (box * 64).round().long().tolist()
        outside = torch.ones(64, 64, dtype=torch.bool)
        outside[y1:y2, x1:x2] = False
        background = img[:, outside].median(dim=1).values
        distinct += int((inside - background).abs().max() > 0.15)
    assert distinct >= 0.95 * len(images)


def test_deterministic_by_seed_and_split() -> None:
    a = render_shapes(20, size=32, seed=1)[0]
    assert torch.equal(a, render_shapes(20, size=32, seed=1)[0])
    assert not torch.equal(a, render_shapes(20, size=32, seed=2)[0])
    assert not torch.equal(a, render_shapes(20, size=32, seed=1, split="test")[0])


def test_train_and_test_are_disjoint() -> None:
    train = make_dataset("shapes", split="train", n=400, size=32)
    test = make_dataset("shapes", split="test", n=400, size=32)
    assert not _digests(train.images) & _digests(test.images)


def test_default_sizes_and_errors() -> None:
    assert len(make_dataset("shapes", split="test", size=16)) == 1000
    gray = make_dataset("shapes", n=4, size=32, channels=1)
    assert gray.images.shape == (4, 1, 32, 32)
    with pytest.raises(ValueError):
        render_shapes(4, size=8)
    with pytest.raises(ValueError):
        make_dataset("shapes", split="valid")


def test_generates_a_large_batch() -> None:
    # generation speed is measured by benchmarks/data_speed.py, not asserted here
    ds = make_dataset("shapes", n=1500, size=64)
    assert len(ds) == 1500 and ds.images.shape == (1500, 3, 64, 64)


def test_clutter_is_optional_and_checked() -> None:
    plain = render_shapes(16, size=32, seed=3)
    busy = render_shapes(16, size=32, seed=3, clutter=1.0)
    assert torch.equal(plain[1], busy[1]) and torch.equal(plain[2], busy[2])  # same objects, same boxes
    assert not torch.equal(plain[0], busy[0])  # fragments drawn around them
    with pytest.raises(ValueError, match="clutter"):
        render_shapes(4, size=32, clutter=1.5)
