"""A run's data settings as one value: :class:`DataSpec` names everything its train and test splits are built
from, and :meth:`DataSpec.build` builds them from that alone — so the spec is also the key for data built once and
kept (equal specs of built-in data give equal images)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import ImageSet
from .registry import make_dataset

__all__ = ["DataSpec"]


@dataclass(frozen=True)
class DataSpec:
    """The settings a pair of train / test splits depends on (hashable).

    Attributes:
        name: a built-in dataset or a path to user data (see :func:`~idfy.data.make_dataset`).
        size: image side in pixels.
        seed: randomness of generated sets and subsets.
        data_dir: where the Fashion-MNIST files are (or a base for a relative user-data path); None: the usual
            places.
        n_train / n_test: items of each split; None: the dataset's own default (every user item).
    """

    name: str
    size: int = 64
    seed: int = 0
    data_dir: str | None = None
    n_train: int | None = None
    n_test: int | None = None

    def build(self) -> tuple[ImageSet, ImageSet]:
        """``(train_set, test_set)`` of uint8 ``(N, C, size, size)`` images, built from these settings only.

        Raises:
            the errors of :func:`~idfy.data.make_dataset`: ValueError (unknown name, invalid settings),
            FileNotFoundError (Fashion-MNIST files or a user path missing).
        """
        kw = {"size": self.size, "seed": self.seed, "data_dir": self.data_dir}
        train_set = make_dataset(self.name, split="train", n=self.n_train, **kw)
        test_set = make_dataset(self.name, split="test", n=self.n_test, **kw)
        return train_set, test_set
