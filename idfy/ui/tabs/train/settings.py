"""The Train tab's settings: the demo's defaults (the engine's, read in one place), the controls' values as
:class:`TrainSettings`, and their validation into a design and a :class:`~idfy.train.config.TrainConfig`
(:func:`make_configs` for one run, :func:`make_race` for a race)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from idfy.analysis.memory import check_memory
from idfy.config import ConfigError, ModelConfig
from idfy.data import describe_datasets
from idfy.presets import list_presets, preset_config
from idfy.train import config as _engine
from idfy.train.config import TrainConfig
from idfy.train.optim import OPTIMIZERS
from idfy.train.race import MAX_ENTRANTS, Entrant, unique_names

__all__ = [
    "BATCH_SIZES",
    "CURRENT_DESIGN",
    "MAX_RACE_OTHERS",
    "RUN_OVERRIDES",
    "SAVED_PREFIX",
    "TrainSettings",
    "augmentation_text",
    "augmentations",
    "batch_sizes",
    "default_model",
    "label",
    "make_configs",
    "make_race",
    "resolve_design",
]

#: The model choice that means "the design of the Design tab" (the same name as the Compare tab's).
CURRENT_DESIGN = "current design"
SAVED_PREFIX = "saved: "
#: Settings the tab adds to the engine's defaults: no periodic last.pt (best.pt at evaluations, last.pt at the
#: end). Tests shrink the data through here (``n_train`` / ``n_test``).
RUN_OVERRIDES: dict[str, Any] = {"checkpoint_every": 0}
MIN_SIZE, MAX_SIZE = 32, 224
MAX_SECONDS, MAX_STEPS = 600, 5000
MAX_RACE_OTHERS = 3
BATCH_SIZES = (8, 16, 32, 64, 128)


def default_model() -> str:
    """The design the tab starts with: the engine's demo design, :data:`idfy.train.config.DEFAULT_PRESET` (read
    when called, so the tab follows the engine)."""
    return _engine.DEFAULT_PRESET


def augmentations(tc: TrainConfig | None = None) -> dict[str, dict[str, Any]]:
    """Augmentation choices -> TrainConfig settings: flips; shifts and random erasing at the engine's default
    strength when it has one, else shifts of up to 10 % of the side and erasing with p = 0.25."""
    tc = tc or TrainConfig()
    return {
        "flip": {"augment": True},
        "shift": {"translate": tc.translate or 0.1},
        "erase": {"erase": tc.erase or 0.25},
    }


def _augmentation_phrase(name: str, setting: dict[str, Any]) -> str:
    if name == "shift":
        return f"random shifts of up to {100 * setting['translate']:g} % of the side"
    if name == "erase":
        return f"random erasing (p = {setting['erase']:g} per image)"
    return "random horizontal flips"


def augmentation_text(ticked: tuple[str, ...] | list[str] | None, tc: TrainConfig | None = None) -> str:
    """What the ticked augmentation boxes do to the training images, at the strength :func:`make_configs` passes
    (:func:`augmentations`), and which boxes are off: the augmentation field's caption. Unknown names
    are left out (:func:`make_configs` refuses them)."""
    choices = augmentations(tc)
    on = [_augmentation_phrase(n, c) for n, c in choices.items() if n in (ticked or ())]
    off = [n for n in choices if n not in (ticked or ())]
    text = f"applied: {', '.join(on)}" if on else "none: the training images are used as they are"
    return text + (f" · off: {', '.join(off)}" if off else "")


def _default_augment() -> tuple[str, ...]:
    tc = TrainConfig()
    on = {"flip": tc.augment, "shift": tc.translate > 0, "erase": tc.erase > 0}
    return tuple(k for k, v in on.items() if v)


def batch_sizes() -> tuple[int, ...]:
    """The batch sizes offered: :data:`BATCH_SIZES` and the engine's default."""
    return tuple(sorted({*BATCH_SIZES, TrainConfig().batch_size}))


def _default(name: str) -> Any:
    return lambda: getattr(TrainConfig(), name)


@dataclass(frozen=True)
class TrainSettings:
    """What the Train tab's controls say (plain values); every default is the engine's demo default.

    ``race``: the other designs of a race (empty: one run).
    """

    dataset: str = field(default_factory=_default("data"))
    size: int = field(default_factory=_default("size"))
    model: str = field(default_factory=default_model)
    budget_kind: str = field(default_factory=lambda: "seconds" if TrainConfig().time_budget_s else "steps")
    budget: float = field(
        default_factory=lambda: TrainConfig().time_budget_s or TrainConfig().max_steps or 300
    )
    optimizer: str = field(default_factory=_default("optimizer"))
    lr: float = field(default_factory=_default("lr"))
    batch_size: int = field(default_factory=_default("batch_size"))
    augment: tuple[str, ...] = field(default_factory=_default_augment)
    race: tuple[str, ...] = ()

    @property
    def model_label(self) -> str:
        return label(self.model)

    @property
    def budget_text(self) -> str:
        return f"{self.budget:g} s" if self.budget_kind == "seconds" else f"{int(self.budget)} steps"

    @property
    def design_labels(self) -> tuple[str, ...]:
        """How the designs read on the page: the model, then the race's other designs (:func:`label`)."""
        return tuple(label(r) for r in (self.model, *self.race))


def label(ref: str) -> str:
    """How a model choice reads on the page: ``the current design``, a saved design's name, a preset."""
    if ref == CURRENT_DESIGN:
        return "the current design"
    return ref[len(SAVED_PREFIX) :] if ref.startswith(SAVED_PREFIX) else ref


def _number(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: give a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{name}: give a finite number")
    return v


def resolve_design(model: str, config_yaml: str | None) -> ModelConfig:
    """The design to train: a preset by name, or the Design tab's current design (YAML)."""
    if model == CURRENT_DESIGN:
        if not (config_yaml or "").strip():
            raise ConfigError("current design: the Design tab has no valid design yet; pick a preset there")
        return ModelConfig.from_yaml(config_yaml or "")
    if model not in list_presets():
        raise ConfigError(f"model: unknown preset {model!r}; choose one of {', '.join(list_presets())}")
    return preset_config(model)  # a name only: this value comes from the browser


def _resolve(ref: str, config_yaml: str | None, saved: dict[str, str] | None) -> ModelConfig:
    """A preset, the current design or a design saved in the Compare tab (``saved: NAME``)."""
    if isinstance(ref, str) and ref.startswith(SAVED_PREFIX):
        name = ref[len(SAVED_PREFIX) :]
        if name not in (saved or {}):
            raise ConfigError(f"no saved design called {name!r} in this session; save it in the Compare tab")
        return ModelConfig.from_yaml((saved or {})[name])
    return resolve_design(ref, config_yaml)


def make_configs(
    settings: TrainSettings, config_yaml: str | None = None, saved: dict[str, str] | None = None
) -> tuple[ModelConfig, TrainConfig]:
    """The design and the run's :class:`TrainConfig` for ``settings``, validated: the engine's defaults with
    what the controls change and :data:`RUN_OVERRIDES`.

    Raises:
        ConfigError / ValueError: a message naming the control to change.
    """
    tc = _train_config(settings)
    cfg = _resolve(settings.model, config_yaml, saved)
    try:
        sized = cfg.set("input.size", [tc.size, tc.size])
    except ConfigError as e:
        raise ConfigError(f"input size: the design does not work at {tc.size}×{tc.size} px ({e})") from None
    check_memory(sized, batch_size=tc.batch_size)  # refuse designs that would exhaust the server
    return cfg, tc


def _train_config(settings: TrainSettings) -> TrainConfig:
    if settings.dataset not in describe_datasets():
        raise ValueError(f"dataset: choose one of {', '.join(describe_datasets())}")
    size = int(_number(settings.size, "input size"))
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"input size: {size} px is outside {MIN_SIZE}–{MAX_SIZE} px")
    budget = _number(settings.budget, "budget")
    if settings.budget_kind == "seconds":
        if not 1 <= budget <= MAX_SECONDS:
            raise ValueError(f"budget: give 1 to {MAX_SECONDS} seconds (got {budget:g})")
        limits: dict[str, Any] = {"time_budget_s": budget, "max_steps": None, "epochs": None}
    elif settings.budget_kind == "steps":
        if not 1 <= budget <= MAX_STEPS or budget != int(budget):
            raise ValueError(f"budget: give a whole number of steps from 1 to {MAX_STEPS} (got {budget:g})")
        limits = {"time_budget_s": None, "max_steps": int(budget), "epochs": None}
    else:
        raise ValueError("budget: choose seconds or steps")
    lr = _number(settings.lr, "learning rate")
    if not 0 < lr <= 10:
        raise ValueError(f"learning rate: {lr:g} must be above 0 and at most 10")
    raw_batch = _number(settings.batch_size, "batch size")
    batch = int(raw_batch) if raw_batch.is_integer() else -1
    if batch not in batch_sizes():
        raise ValueError(f"batch size: choose one of {', '.join(map(str, batch_sizes()))}")
    if settings.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: choose {', '.join(OPTIMIZERS)}")
    base = TrainConfig()
    choices = augmentations(base)
    unknown = [a for a in settings.augment if a not in choices]
    if unknown:
        raise ValueError(
            f"augmentation: unknown {', '.join(map(repr, unknown))}; choose from {', '.join(choices)}"
        )
    augment: dict[str, Any] = {"augment": False, "translate": 0.0, "erase": 0.0}
    for name in settings.augment:
        augment.update(choices[name])
    points = int(getattr(base, "eval_points", 0) or 0)
    if limits["max_steps"] is not None and not base.eval_every and points >= 2:
        # the engine places held-out points at fractions of a time budget; a step budget gets them every
        # 1 / eval_points of its steps, so the held-out curve grows in both kinds of run
        limits["eval_every"] = max(1, round(limits["max_steps"] / points))
    tc = base.replace(
        data=settings.dataset,
        size=size,
        batch_size=batch,
        optimizer=settings.optimizer,
        lr=lr,
        **limits,
        **augment,
        **RUN_OVERRIDES,
    )
    tc.validate()
    return tc


def make_race(
    settings: TrainSettings, config_yaml: str | None = None, saved: dict[str, str] | None = None
) -> tuple[list[Any], TrainConfig]:
    """The entrants (``settings.model`` first, then ``settings.race``) and the shared :class:`TrainConfig`.

    Raises:
        ConfigError / ValueError: fewer than 2 or more than 4 designs, or a bad control (named).
    """
    refs = [settings.model, *settings.race]
    if len(refs) < 2:
        raise ValueError("race: choose at least one design under 'race against'")
    if len(refs) > MAX_ENTRANTS:
        raise ValueError(f"race: at most {MAX_ENTRANTS} designs (the model and {MAX_ENTRANTS - 1} others)")
    tc = _train_config(settings)
    cfgs = [
        make_configs(dataclasses.replace(settings, model=r, race=()), config_yaml, saved)[0] for r in refs
    ]
    names = unique_names([CURRENT_DESIGN if r == CURRENT_DESIGN else label(r) for r in refs])
    return [Entrant(n, c) for n, c in zip(names, cfgs)], tc
