"""Is a prediction worth trusting? Two checks for the Predict tab (and any caller):

* :func:`foreign_image` — does an image look like the data the checkpoint was trained on? A model trained on
  ``shapes`` still answers for a photo or a Fashion-MNIST item, with confidence; this flags such inputs. The
  image and a sample of the dataset's held-out split are summarised by a few pixel statistics (brightness,
  contrast, colourfulness, edge strength, dark / bright share, an 8-bin brightness histogram). An image is
  foreign when it is grey and every sample image has colour (or the reverse), when one statistic lies outside
  the sample's range (with a 10 % margin), or when its distance to its
  k-th nearest sample image (robustly standardized features; the k-NN score of Sun et al., "Out-of-distribution
  detection with deep nearest neighbors", ICML 2022, on pixel statistics instead of deep features) exceeds
  1.5 × the 99th percentile of the sample's own k-NN distances. A cheap input check, not a learned detector:
  it catches other datasets, photos, drawings and screenshots, not subtle shifts, and it flags about 1 % of
  the dataset's own images (3–4 of 400 training images of ``shapes`` and ``fashion-canvas`` at 32 and 64 px).
* :func:`at_chance` — did the checkpoint's held-out score beat the chance level of its data
  (:mod:`idfy.train.chance`)? A checkpoint at chance level guesses.

Only the built-in datasets (:func:`idfy.data.list_datasets`) are profiled: a checkpoint names its data, and a
name that came with an uploaded file is never used as a path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from idfy.data import list_datasets, make_dataset
from idfy.train.chance import Chance, chance_level, verdict

__all__ = ["PROFILE_IMAGES", "DataProfile", "at_chance", "data_profile", "foreign_image", "image_features"]


#: Held-out images summarised per dataset profile.
PROFILE_IMAGES = 512
#: Neighbours of the k-NN score, and the factor over the sample's own 99th percentile that flags an image.
K_NEIGHBOURS, KNN_MARGIN = 5, 1.5
#: Margin around the sample's range of each statistic, as a fraction of that range (plus a small constant).
RANGE_MARGIN = 0.1
#: Colourfulness (mean channel spread) below which an image counts as grey.
GREY = 0.02
_FEATURES = ("brightness", "contrast", "colourfulness", "edge strength", "dark share", "bright share")


def image_features(images: Tensor, size: int) -> Tensor:
    """Pixel statistics of images.

    Args:
        images: (N, C, H, W) or (C, H, W), uint8 or float in [0, 1]; C is 1 or 3.
        size: side the images are resized to first (the checkpoint's input size).

    Returns:
        float (N, 14): brightness, contrast, colourfulness, edge strength, dark share, bright share and an 8-bin
        brightness histogram.
    """
    x = images.unsqueeze(0) if images.dim() == 3 else images
    x = x.float() / 255.0 if not x.is_floating_point() else x.float()
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    x = F.interpolate(
        x[:, :3], size=(size, size), mode="bilinear", align_corners=False, antialias=True
    ).clamp(0, 1)
    gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).flatten(1)  # (N, size*size)
    g2 = gray.view(-1, size, size)
    edges = (g2[:, :, 1:] - g2[:, :, :-1]).abs().mean(dim=(1, 2)) + (g2[:, 1:] - g2[:, :-1]).abs().mean(
        dim=(1, 2)
    )
    colour = x.std(dim=1).flatten(1).mean(dim=1)
    hist = torch.stack(
        [((gray >= k / 8) & (gray < (k + 1) / 8 + (k == 7))).float().mean(dim=1) for k in range(8)], 1
    )
    stats = torch.stack(
        [
            gray.mean(1),
            gray.std(1),
            colour,
            edges,
            (gray < 0.1).float().mean(1),
            (gray > 0.9).float().mean(1),
        ],
        1,
    )
    return torch.cat([stats, hist], dim=1)


@dataclass(frozen=True)
class DataProfile:
    """A dataset's held-out split, summarised: per-statistic centre, spread and range, the standardized
    statistics of the sample (for the k-NN score) with its threshold, and the split's chance level."""

    name: str
    size: int
    centre: Tensor
    spread: Tensor
    low: Tensor
    high: Tensor
    sample: Tensor
    knn_threshold: float
    chance: Chance

    def check(self, image: Tensor) -> str | None:
        """What is unlike the dataset in ``image`` (C, H, W): a statistic's name, ``"overall pixel
        statistics"`` or None when it looks like the dataset's images."""
        f = image_features(image, self.size)[0]
        colour, low, high = float(f[2]), float(self.low[2]), float(self.high[2])
        if (low > GREY and colour < GREY / 4) or (high < GREY / 4 and colour > GREY):
            return "colourfulness"  # grey among colour images, or colour among grey ones
        margin = RANGE_MARGIN * (self.high - self.low) + 0.005
        outside = ((f < self.low - margin) | (f > self.high + margin)).nonzero().flatten().tolist()
        if outside:
            i = outside[0]
            return _FEATURES[i] if i < len(_FEATURES) else "brightness histogram"
        z = ((f - self.centre) / self.spread).unsqueeze(0)
        k = min(K_NEIGHBOURS, len(self.sample))
        distance = float(torch.cdist(z, self.sample)[0].topk(k, largest=False).values[-1])
        return "overall pixel statistics" if distance > self.knn_threshold else None


@functools.lru_cache(maxsize=8)
def data_profile(name: str, size: int) -> DataProfile | None:
    """The profile of built-in dataset ``name`` at ``size`` px (cached); None for any other name or when its
    files are missing."""
    if name not in list_datasets():
        return None
    try:
        test = make_dataset(name, split="test", size=size)
    except (FileNotFoundError, ValueError):
        return None
    step = max(1, len(test) // PROFILE_IMAGES)
    feats = image_features(test.images[::step][:PROFILE_IMAGES], size)
    centre = feats.median(dim=0).values
    mad = (feats - centre).abs().median(dim=0).values * 1.4826
    spread = torch.maximum(
        mad, torch.full_like(mad, 0.02)
    )  # a floor: a constant statistic still allows noise
    sample = (feats - centre) / spread
    own = torch.cdist(sample, sample)
    own.fill_diagonal_(float("inf"))
    k = min(K_NEIGHBOURS, len(sample) - 1)
    own_knn = own.topk(max(k, 1), largest=False).values[:, -1]
    threshold = KNN_MARGIN * float(torch.quantile(own_knn, 0.99))
    low, high = feats.min(dim=0).values, feats.max(dim=0).values
    return DataProfile(name, size, centre, spread, low, high, sample, threshold, chance_level(test))


def foreign_image(image: Tensor, dataset: str | None, size: int) -> str | None:
    """A one-line warning when ``image`` (C, H, W) does not look like ``dataset``'s images, else None (also
    None when the dataset is not a built-in one)."""
    profile = data_profile(str(dataset), int(size)) if dataset else None
    if profile is None:
        return None
    what = profile.check(image)
    if what is None:
        return None
    return (
        f"this image does not look like the {dataset} images the model was trained on (its {what} is unlike "
        "theirs): the prediction is a guess outside what the model learned"
    )


def at_chance(metrics: dict[str, Any] | None, dataset: str | None, size: int) -> str | None:
    """A one-line warning when the held-out ``metrics`` stored with a checkpoint do not beat the chance level of
    its ``dataset`` (a built-in one), else None."""
    clean = _clean_metrics(metrics)
    if not clean or not dataset:
        return None
    profile = data_profile(str(dataset), int(size))
    if profile is None:
        return None
    v = verdict(clean, profile.chance)
    if v is None or v.beat:
        return None
    return f"this checkpoint is at chance level: {v.text}; its answers are guesses — train longer or pick another"


def _clean_metrics(metrics: Any) -> dict[str, float]:
    """The fractions and the image count of stored metrics, when they are numbers in range (a checkpoint may come
    from anywhere); anything else counts as no metrics."""
    if not isinstance(metrics, dict):
        return {}
    out: dict[str, float] = {}
    for key in ("accuracy", "loc_accuracy"):
        value = metrics.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
            out[key] = float(value)
    n = metrics.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and 0 < n <= 10**9:
        out["n"] = n
    return out if "n" in out else {}
