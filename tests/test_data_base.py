"""ImageSet and on-device batching (idfy.data.base)."""

from __future__ import annotations

import pytest
import torch

from idfy.data import ImageSet, convert_channels, hflip_batch, iterate_batches, masks_to_boxes, resize_images

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _blocks(n: int = 10, size: int = 16, channels: int = 3) -> ImageSet:
    """Images with one bright block each; item i's label is i and its box is the block."""
    images = torch.zeros(n, channels, size, size, dtype=torch.uint8)
    boxes = []
    for i in range(n):
        x0, y0 = i % (size - 4), (2 * i) % (size - 4)
        images[i, :, y0 : y0 + 3, x0 : x0 + 2] = 200
        boxes.append((x0 / size, y0 / size, (x0 + 2) / size, (y0 + 3) / size))
    return ImageSet(
        images=images,
        labels=torch.arange(n),
        boxes=torch.tensor(boxes, dtype=torch.float32),
        classes=[str(i) for i in range(n)],
        task="localize",
        name="blocks",
    )


def test_imageset_properties_and_subset() -> None:
    ds = _blocks(10, 16)
    assert len(ds) == 10 and ds.num_classes == 10 and ds.channels == 3 and ds.size == (16, 16)
    sub = ds.subset(torch.tensor([3, 1]))
    assert sub.labels.tolist() == [3, 1]
    assert torch.equal(sub.boxes, ds.boxes[[3, 1]])
    mask = torch.zeros(10, dtype=torch.bool)
    mask[[2, 5]] = True
    assert ds.subset(mask).labels.tolist() == [2, 5]
    moved = ds.to("cpu")
    assert moved.images.device.type == "cpu" and moved.classes == ds.classes


@pytest.mark.parametrize(
    "change",
    [
        {"images": torch.zeros(2, 3, 4, 4)},  # float, not uint8
        {"images": torch.zeros(2, 2, 4, 4, dtype=torch.uint8)},  # 2 channels
        {"labels": torch.zeros(3, dtype=torch.int64)},  # wrong length
        {"boxes": torch.zeros(2, 5)},
        {"task": "detect"},
        {"boxes": None},  # localize needs boxes
        {"classes": []},
    ],
)
def test_imageset_rejects_bad_layout(change: dict) -> None:
    fields = dict(
        images=torch.zeros(2, 3, 4, 4, dtype=torch.uint8),
        labels=torch.zeros(2, dtype=torch.int64),
        boxes=torch.tensor([[0, 0, 1, 1]] * 2, dtype=torch.float32),
        classes=["a"],
        task="localize",
        name="x",
    )
    fields.update(change)
    with pytest.raises(ValueError):
        ImageSet(**fields)


@pytest.mark.parametrize("device", DEVICES)
def test_batches_shapes_dtypes_and_one_pass(device: str) -> None:
    ds = _blocks(10, 16).to(device)
    gen = torch.Generator().manual_seed(0)
    seen = []
    for images, labels, boxes in iterate_batches(ds, 4, shuffle=True, generator=gen):
        assert images.dtype == torch.float32 and images.shape[1:] == (3, 16, 16)
        assert images.device.type == device and labels.device.type == device
        assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
        assert labels.dtype == torch.int64 and boxes is not None and boxes.dtype == torch.float32
        assert torch.equal(boxes, ds.boxes[labels])  # boxes travel with their items
        seen.append(labels.cpu())
    allseen = torch.cat(seen)
    assert [len(s) for s in seen] == [4, 4, 2]
    assert sorted(allseen.tolist()) == list(range(10))


def test_batches_drop_last_order_and_determinism() -> None:
    ds = _blocks(10, 16)
    batches = list(iterate_batches(ds, 4, shuffle=False, drop_last=True))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]

    def order(seed: int) -> list[int]:
        gen = torch.Generator().manual_seed(seed)
        return torch.cat([b[1] for b in iterate_batches(ds, 3, shuffle=True, generator=gen)]).tolist()

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_batches_channels_and_size() -> None:
    ds = _blocks(4, 16, channels=1)
    images, _, boxes = next(iterate_batches(ds, 4, shuffle=False, channels=3, size=(32, 24)))
    assert images.shape == (4, 3, 32, 24)
    assert torch.equal(images[:, 0], images[:, 2])
    assert torch.equal(boxes, ds.boxes)
    gray, _, _ = next(iterate_batches(_blocks(4, 16, 3), 4, shuffle=False, channels=1))
    assert gray.shape == (4, 1, 16, 16)
    assert abs(float(gray.max()) - 200 / 255) < 1e-3


def test_classification_batches_have_no_boxes() -> None:
    ds = _blocks(5)
    ds = ImageSet(ds.images, ds.labels, None, ds.classes, "classify", "cls")
    _, labels, boxes = next(iterate_batches(ds, 8, shuffle=False))
    assert boxes is None and labels.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("device", DEVICES)
def test_flip_augmentation_moves_boxes_with_pixels(device: str) -> None:
    ds = _blocks(12, 16).to(device)
    gen = torch.Generator().manual_seed(3)
    flipped_any = kept_any = False
    for images, labels, boxes in iterate_batches(ds, 12, shuffle=True, generator=gen, augment=True):
        for img, lab, box in zip(images.cpu(), labels.cpu(), boxes.cpu()):
            mask = img[0] > 0.5
            assert torch.allclose(masks_to_boxes(mask[None])[0], box)  # the box is where the block is now
            orig = ds.images[lab].cpu().float() / 255
            if torch.equal(img, orig):
                kept_any = True
            else:
                assert torch.equal(img, orig.flip(-1))
                flipped_any = True
    assert flipped_any and kept_any


def test_hflip_batch_box_formula() -> None:
    images = torch.zeros(2, 1, 4, 4)
    boxes = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 1.0, 1.0]])
    _, out = hflip_batch(images, boxes, torch.tensor([True, False]))
    assert torch.allclose(out, torch.tensor([[0.7, 0.2, 0.9, 0.4], [0.5, 0.0, 1.0, 1.0]]))


def test_masks_to_boxes_is_tight() -> None:
    masks = torch.zeros(2, 8, 10, dtype=torch.bool)
    masks[0, 2:5, 3:7] = True
    masks[1, 7, 9] = True
    boxes = masks_to_boxes(masks)
    assert torch.allclose(boxes[0], torch.tensor([3 / 10, 2 / 8, 7 / 10, 5 / 8]))
    assert torch.allclose(boxes[1], torch.tensor([9 / 10, 7 / 8, 1.0, 1.0]))
    with pytest.raises(ValueError):
        masks_to_boxes(torch.zeros(1, 4, 4, dtype=torch.bool))


def test_convert_and_resize_helpers() -> None:
    rgb = torch.tensor([255, 0, 0], dtype=torch.uint8).view(1, 3, 1, 1).expand(2, 3, 4, 4)
    gray = convert_channels(rgb, 1)
    assert gray.dtype == torch.uint8 and int(gray[0, 0, 0, 0]) == round(0.299 * 255)
    assert resize_images(rgb, 8).shape == (2, 3, 8, 8)
    with pytest.raises(ValueError):
        convert_channels(rgb, 2)
    with pytest.raises(ValueError):
        next(iterate_batches(_blocks(2), 0, shuffle=False))


def test_report_lists_every_note_and_counts_the_skipped() -> None:
    ds = _blocks(2)
    assert ds.report() == []
    ds.notes = ["boxes turned"]
    ds.skipped = [(f"im{i}.png", "not an image") for i in range(7)]
    lines = ds.report(max_skipped=2)
    assert lines[0] == "boxes turned"
    assert lines[1] == "skipped 7 items (the first 2): im0.png: not an image; im1.png: not an image"
    assert all("\n" not in line for line in lines)


def test_masks_to_boxes_numbers_are_the_pixel_rule_exactly() -> None:
    """torchvision's indices give exactly x1 = first column / W, x2 = (last column + 1) / W (rows with H)."""
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(200, 37, 53, generator=g) > 0.98
    masks[:, 5, 7] = True
    boxes = masks_to_boxes(masks)
    for mask, box in zip(masks, boxes):
        rows, cols = mask.nonzero(as_tuple=True)
        want = [
            int(cols.min()) / 53,
            int(rows.min()) / 37,
            (int(cols.max()) + 1) / 53,
            (int(rows.max()) + 1) / 37,
        ]
        assert box.tolist() == torch.tensor(want, dtype=torch.float32).tolist()
    assert masks_to_boxes(torch.zeros(0, 4, 4, dtype=torch.bool)).shape == (0, 4)
