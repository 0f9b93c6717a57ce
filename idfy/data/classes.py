"""Match a dataset's classes to a model's by name before the model is judged on it.

Class indices mean nothing across sources: a YOLO ``classes.txt`` may list ``pear, apple`` for a model that
learnt ``apple, pear``. :func:`match_classes` decides how data labels map to model outputs, by these rules
in order:

1. the same names in the same order: nothing to do;
2. the checkpoint names no classes: the data's are taken in their order when the counts agree;
3. every data class name is a model class name: labels are remapped by name (a note says so);
4. anything else is refused with :class:`ClassMismatchError`, naming both lists and what differs -- also
   data that names its classes only by number (YOLO without ``classes.txt``) for a model with names: the
   numbers do not say which class is which, so the message asks for the list of names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from .base import ImageSet

__all__ = ["ClassMatch", "ClassMismatchError", "align_classes", "format_names", "match_classes"]

_MAX_NAMES = 12


class ClassMismatchError(ValueError):
    """The data's classes cannot be matched to the model's; the message names both lists."""


@dataclass(frozen=True)
class ClassMatch:
    """How data labels map to model outputs.

    Attributes:
        index: ``index[i]`` is the model's class index for the data's class ``i``.
        note: what was done, for the user; ``""`` when the lists were identical.
    """

    index: tuple[int, ...]
    note: str

    @property
    def identity(self) -> bool:
        """True when every data label already is the model's index."""
        return all(i == j for i, j in enumerate(self.index))


def format_names(names: Sequence[str], limit: int = _MAX_NAMES) -> str:
    """``a, b, c`` (the first ``limit`` names, then ``… (N in all)``), for one-line messages."""
    shown = ", ".join(str(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown}, … ({len(names)} in all)"


def _numbered(names: Sequence[str]) -> bool:
    return list(names) == [str(i) for i in range(len(names))]


def match_classes(model: Sequence[str], data: Sequence[str], *, model_named: bool = True) -> ClassMatch:
    """Decide how the data's class indices map to the model's (the rules of the module docstring).

    Args:
        model: the model's class names, in output order.
        data: the dataset's class names, in label order.
        model_named: False when the checkpoint stored no names (``model`` are placeholders).

    Raises:
        ClassMismatchError: the lists cannot be matched; the one-line message names both.
    """
    model, data = [str(m) for m in model], [str(d) for d in data]
    if model == data:
        return ClassMatch(tuple(range(len(data))), "")
    both = f"the data's classes are {format_names(data)}, the model's are {format_names(model)}"
    if not model_named:
        if len(model) == len(data):
            note = (
                f"the checkpoint names no classes; the data's {format_names(data)} are taken in their order"
            )
            return ClassMatch(tuple(range(len(data))), note)
        raise ClassMismatchError(
            f"the data has {len(data)} classes ({format_names(data)}) but the model predicts {len(model)}; "
            "evaluate on the kind of data it was trained on"
        )
    where = {name: i for i, name in enumerate(model)}
    repeated = {name for name in model if model.count(name) > 1}
    missing = [d for d in data if d not in where]
    if not missing and not repeated.intersection(data):
        index = tuple(where[d] for d in data)
        return ClassMatch(index, f"classes matched by name ({both}); labels remapped to the model's order")
    if _numbered(data):
        raise ClassMismatchError(
            f"the data names its classes only by number ({format_names(data)}) and the model's are "
            f"{format_names(model)}: give the data its class names (e.g. a YOLO classes.txt, one name per id)"
        )
    if missing:
        raise ClassMismatchError(
            f"{both}; the model knows no class {format_names(missing)}: use data labelled with the model's "
            "class names"
        )
    raise ClassMismatchError(f"{both}; the model's list repeats {format_names(sorted(repeated))}")


def align_classes(ds: ImageSet, model: Sequence[str], *, model_named: bool = True) -> ImageSet:
    """``ds`` with its labels re-indexed to the model's classes (``classes`` becomes ``model``).

    Args:
        ds: the dataset; int64 ``labels (N,)`` index ``ds.classes``.
        model: the model's class names, in output order.
        model_named: False when the checkpoint stored no names.

    Returns:
        ``ds`` itself when nothing changes, else a copy whose ``labels`` index ``model`` and whose ``notes``
        end with what was done.

    Raises:
        ClassMismatchError: see :func:`match_classes`.
    """
    match = match_classes(model, ds.classes, model_named=model_named)
    if not match.note:
        return ds
    labels = ds.labels
    if not match.identity:
        lut = torch.tensor(match.index, dtype=torch.int64, device=labels.device)
        labels = lut.index_select(0, labels)
    classes = list(model) if model_named else list(ds.classes)
    return replace(ds, labels=labels, classes=classes, notes=[*ds.notes, match.note])
