"""Batch augmentations: shifts move boxes with the pixels, erasing fills rectangles, both replay from a seed."""

from __future__ import annotations

import pytest
import torch

from idfy.data import make_dataset
from idfy.data.augment import random_erase, random_translate
from idfy.data.base import iterate_batches


def _dot_images(b: int = 16, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """One white pixel at (row 12, col 20) per image and a 1-pixel box around it."""
    images = torch.zeros(b, 1, size, size)
    images[:, :, 12, 20] = 1.0
    box = torch.tensor([20 / size, 12 / size, 21 / size, 13 / size])
    return images, box.repeat(b, 1)


def test_translate_moves_each_box_with_its_pixels() -> None:
    images, boxes = _dot_images()
    out, moved = random_translate(images, boxes, 0.25, torch.Generator().manual_seed(1))
    assert out.shape == images.shape and moved is not None
    shifts = set()
    for img, box in zip(out, moved, strict=True):
        ys, xs = torch.nonzero(img[0], as_tuple=True)
        assert len(ys) == 1, "a shift of at most 8 px keeps the dot inside"
        dy, dx = int(ys[0]) - 12, int(xs[0]) - 20
        assert abs(dy) <= 8 and abs(dx) <= 8
        torch.testing.assert_close(box * 32, torch.tensor([20.0 + dx, 12.0 + dy, 21.0 + dx, 13.0 + dy]))
        shifts.add((dy, dx))
    assert len(shifts) > 4, "every image draws its own offset"


def test_translate_clips_boxes_and_fills_borders_with_zeros() -> None:
    images = torch.ones(64, 3, 20, 20)
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0]]).repeat(64, 1)
    out, moved = random_translate(images, boxes, 0.5, torch.Generator().manual_seed(0))
    assert moved is not None and moved.min() >= 0 and moved.max() <= 1
    assert (out == 0).any() and set(out.unique().tolist()) <= {0.0, 1.0}
    same, none = random_translate(images, None, 0.0)
    assert same is images and none is None


def test_erase_probability_area_and_noise() -> None:
    images = torch.full((400, 1, 40, 40), 0.5)
    gen = torch.Generator().manual_seed(0)
    out = random_erase(images, 0.5, gen)
    changed = (out != 0.5).flatten(1)
    hit = changed.any(1)
    assert 0.4 < hit.float().mean() < 0.6
    frac = changed[hit].float().mean(1)
    assert frac.max() <= 0.25 + 0.05 and frac.min() > 0
    assert out.min() >= 0 and out.max() <= 1
    assert random_erase(images, 0.0) is images
    assert bool((random_erase(images, 1.0, gen) != 0.5).flatten(1).any(1).all())


@pytest.mark.parametrize("fn", ["translate", "erase"])
def test_same_seed_same_draws(fn: str) -> None:
    images = torch.rand(8, 3, 24, 24)

    def run(seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return (
            random_translate(images, None, 0.2, g)[0] if fn == "translate" else random_erase(images, 1.0, g)
        )

    assert torch.equal(run(3), run(3)) and not torch.equal(run(3), run(4))


def test_iterate_batches_applies_shift_and_erase() -> None:
    ds = make_dataset("fashion-canvas", split="train", size=32, n=32)
    plain = next(iterate_batches(ds, 32, shuffle=False))
    aug = next(
        iterate_batches(
            ds, 32, shuffle=False, generator=torch.Generator().manual_seed(0), translate=0.1, erase=1.0
        )
    )
    assert aug[0].shape == plain[0].shape and not torch.equal(aug[0], plain[0])
    assert torch.equal(aug[1], plain[1])
    assert aug[2] is not None and not torch.equal(aug[2], plain[2])
