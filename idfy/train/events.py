"""Progress events yielded by :func:`idfy.train.train`, consumed by the app, the CLI and the tests.

A run yields ``Start`` first, then ``Step`` / ``Eval`` / ``Samples`` / ``Checkpoint`` in the order they
happen, and ends with exactly one ``Done`` or ``Failed``. Values are plain Python numbers, lists and
CPU tensors, so a consumer never touches the training device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from torch import Tensor, nn

if TYPE_CHECKING:
    from idfy.config import ModelConfig
    from idfy.train.chance import Chance
    from idfy.train.config import TrainConfig

__all__ = ["Checkpoint", "Done", "Eval", "Event", "Failed", "Samples", "Start", "Step"]


@dataclass
class Start:
    """The run is set up: the model config adapted to the data, the data sizes, where it runs."""

    model_config: ModelConfig
    train_config: TrainConfig
    n_train: int
    n_test: int
    classes: list[str]
    task: str
    device: str
    world_size: int
    num_params: int
    steps_per_epoch: int
    total_steps: int | None
    resumed_step: int = 0
    out_dir: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the held-out set's chance level (the best constant answer), for chance lines and the final verdict
    chance: Chance | None = None


@dataclass
class Step:
    """Training progress, every ``log_every`` steps; losses are means over the steps since the last event."""

    step: int
    epoch: float
    loss: float
    box_l1: float
    giou: float
    cls: float
    lr: float
    images_per_s: float
    elapsed: float


@dataclass
class Eval:
    """Held-out metrics (see :func:`idfy.train.metrics.evaluate`) at ``step``; ``is_best`` when they improved."""

    step: int
    metrics: dict[str, Any]
    elapsed: float
    is_best: bool = False


@dataclass
class Samples:
    """Predictions on a fixed handful of test images.

    Attributes:
        images: float (K, C, H, W) in [0, 1], CPU.
        pred_boxes / true_boxes: float (K, 4) normalized xyxy, or None for classification.
        pred_labels / true_labels: K class indices; pred_scores: K probabilities.
        classes: class names.
    """

    step: int
    images: Tensor
    pred_boxes: Tensor | None
    pred_labels: list[int]
    pred_scores: list[float]
    true_boxes: Tensor | None
    true_labels: list[int]
    classes: list[str]


@dataclass
class Checkpoint:
    """A checkpoint file was written; ``kind`` is ``"last"`` or ``"best"``."""

    step: int
    path: str
    kind: str = "last"


@dataclass
class Done:
    """The run finished. ``reason``: ``"budget"``, ``"epochs"``, ``"max_steps"`` or ``"stopped"``.

    ``metrics``: the final evaluation on the full held-out split, of the final weights (those of ``step``);
    ``model``: that network (eval mode, on its device); ``checkpoint``: the file holding those same weights,
    ``last.pt`` of ``step`` (None without an output folder), so evaluating it gives ``metrics``;
    ``best_checkpoint`` / ``best_step``: ``best.pt``, the weights that scored best on the held-out subset
    during the run, and their step (None when no evaluation after a step was best or nothing was written);
    ``classes``: the class names (``Predictor.from_model(done.model, done.classes)`` predicts with the trained
    network).
    """

    step: int
    reason: str
    metrics: dict[str, Any]
    elapsed: float
    out_dir: str | None = None
    checkpoint: str | None = None
    model: nn.Module | None = field(default=None, repr=False)
    classes: list[str] = field(default_factory=list)
    best_checkpoint: str | None = None
    best_step: int | None = None


@dataclass
class Failed:
    """The run could not go on. ``message`` is one line: what went wrong (naming the file or setting), the last
    good checkpoint when a write failed, and what to change; never a traceback or a library's own advice.
    ``step``: the last completed step (0 when the run failed while setting up, before any step)."""

    message: str
    step: int = 0


Event = Union[Start, Step, Eval, Samples, Checkpoint, Done, Failed]  # noqa: UP007 - runtime alias
