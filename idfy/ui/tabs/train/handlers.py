"""The Train tab's event handlers; each returns (or streams) ``{name: value}`` for what changed, the names
being the tab's components (:func:`idfy.ui.tabs.train.layout.layout`)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from typing import Any

import gradio as gr

from idfy.data import describe_datasets
from idfy.presets import list_presets
from idfy.train.config import TrainConfig
from idfy.train.optim import SUGGESTED_LR
from idfy.ui.jobs import REGISTRY
from idfy.ui.run_view import idle_status
from idfy.ui.tabs.train.runs import run_race, run_training
from idfy.ui.tabs.train.settings import (
    CURRENT_DESIGN,
    MAX_RACE_OTHERS,
    MAX_SECONDS,
    MAX_STEPS,
    SAVED_PREFIX,
    TrainSettings,
    _default_augment,
    augmentation_text,
)

__all__ = [
    "augment_info",
    "budget_default",
    "budget_label",
    "dataset_info",
    "from_compare",
    "idle",
    "lock",
    "model_choices",
    "optimizer_lr",
    "race_mode",
    "start_race",
    "start_training",
    "stop_training",
    "stopping",
    "unlock",
]


def _session(request: gr.Request | None) -> str:
    return (getattr(request, "session_hash", None) or "local") if request is not None else "local"


def _settings(
    dataset: str, size: Any, model: str, budget_kind: str, budget: Any, optimizer: str, lr: Any, batch_size: Any,
    augment: list[str] | None, race: list[str] | None = None,
) -> TrainSettings:  # fmt: skip
    return TrainSettings(
        dataset=dataset,
        size=size,
        model=model,
        budget_kind=budget_kind,
        budget=budget,
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        augment=tuple(augment) if augment is not None else _default_augment(),
        race=tuple(race or ()),
    )


def start_training(
    dataset: str,
    size: float,
    model: str,
    budget_kind: str,
    budget: float,
    optimizer: str,
    lr: float,
    batch_size: float,
    augment: list[str] | None,
    config_yaml: str | None,
    saved: dict[str, str] | None = None,
    request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
) -> Iterator[dict[str, Any]]:
    """Gradio handler of Start (``/train``): streams ``{name: value}`` of :data:`RUN_OUTPUTS` (status HTML,
    curves, samples image, metrics rows, checkpoint file) until the run ends."""
    settings = _settings(dataset, size, model, budget_kind, budget, optimizer, lr, batch_size, augment)
    yield from run_training(settings, config_yaml, _session(request), saved=saved)


def start_race(
    dataset: str,
    size: float,
    model: str,
    race_with: list[str] | None,
    budget_kind: str,
    budget: float,
    optimizer: str,
    lr: float,
    batch_size: float,
    augment: list[str] | None,
    config_yaml: str | None,
    saved: dict[str, str] | None = None,
    request: gr.Request = None,  # type: ignore[assignment]
) -> Iterator[dict[str, Any]]:
    """Gradio handler of Start race (``/race``): ``model`` against ``race_with`` (1–3 designs); streams
    ``{name: value}`` of :data:`RACE_OUTPUTS` (status HTML, overlaid curves, side-by-side samples, final table,
    checkpoint files) until every run ends."""
    settings = _settings(
        dataset, size, model, budget_kind, budget, optimizer, lr, batch_size, augment, race_with
    )
    yield from run_race(settings, config_yaml, _session(request), saved=saved)


def stop_training(request: gr.Request = None) -> dict[str, str]:  # type: ignore[assignment]
    """Gradio handler of Stop (``/stop_training``): ask this session's training or race to stop;
    ``{"stop_note": answer}`` (the answer API clients receive; the page shows the status line instead)."""
    if REGISTRY.stop(_session(request)):
        return {"stop_note": "stop requested: every run ends after its current step and keeps its checkpoint"}
    return {"stop_note": "no training of this page is running"}


def stopping() -> dict[str, Any]:
    """Stop pressed: the button says so until the run ends."""
    return {"stop": gr.update(interactive=False, value="Stopping …")}


def dataset_info(name: str) -> dict[str, Any]:
    """The one-line description under the dataset choice."""
    return {
        "dataset_info": f'<div class="train-dataset-info">{html.escape(describe_datasets().get(name, ""))}</div>'
    }


def model_choices(saved: dict[str, str] | None = None) -> list[Any]:
    """The model dropdown's choices: presets, the Design tab's design, the designs saved in Compare."""
    return [
        *list_presets(),
        (f"{CURRENT_DESIGN} (Design tab)", CURRENT_DESIGN),
        *(SAVED_PREFIX + n for n in (saved or {})),
    ]


def budget_label(kind: str, race_with: list[str] | None = None) -> str:
    """The budget field's label: its unit, and "per design" in a race (each design gets the whole budget)."""
    unit = "steps" if kind == "steps" else "seconds"
    return f"budget per design ({unit})" if race_with else f"budget ({unit})"


def budget_default(kind: str, race_with: list[str] | None = None) -> dict[str, Any]:
    """The budget field for ``kind`` (``seconds`` / ``steps``): the engine's default, label and maximum."""
    tc = TrainConfig()
    label = budget_label(kind, race_with)
    if kind == "steps":
        return {"budget": gr.update(value=tc.max_steps or 300, label=label, maximum=MAX_STEPS)}
    return {"budget": gr.update(value=tc.time_budget_s or 60, label=label, maximum=MAX_SECONDS)}


def optimizer_lr(optimizer: str) -> dict[str, Any]:
    """The learning rate measured for ``optimizer`` (:data:`idfy.train.optim.SUGGESTED_LR`), put in the field when
    the person picks another optimizer (they can still type their own)."""
    return {"lr": SUGGESTED_LR.get(optimizer, TrainConfig().lr)}


def race_mode(race_with: list[str] | None, budget_kind: str = "seconds") -> dict[str, Any]:
    """Designs under "race against": Start race replaces Start and the budget is per design."""
    racing = bool(race_with)
    return {
        "start": gr.update(visible=not racing),
        "race_start": gr.update(visible=racing),
        "budget": gr.update(label=budget_label(budget_kind, race_with)),
    }


def idle(
    status: str | None,
    dataset: str,
    model: str,
    race_with: list[str] | None,
    budget_kind: str,
    budget: Any,
) -> dict[str, Any]:
    """A setting changed: the idle status line says what Start (or Start race) will now do
    (:func:`~idfy.ui.run_view.idle_status`). A status that shows a run (running or ended) is left as it is, and so
    is the line while the budget is not a number (Start would refuse it with a message)."""
    if 'data-state="idle"' not in (status or ""):
        return {}
    try:
        value = float(budget)
    except (TypeError, ValueError):
        return {}
    if not math.isfinite(value):
        return {}
    settings = TrainSettings(
        dataset=dataset, model=model, budget_kind=budget_kind, budget=value, race=tuple(race_with or ())
    )
    return {"status": idle_status(settings)}


def augment_info(augment: list[str] | None) -> dict[str, Any]:
    """The augmentation field's caption for the ticked boxes (:func:`augmentation_text`)."""
    return {"augment": gr.update(info=augmentation_text(augment))}


def lock(racing: bool) -> dict[str, Any]:
    """Start pressed: the start buttons off, Stop on, the previous downloads hidden, the right table shown."""
    off = gr.update(interactive=False)
    return {
        "start": off,
        "race_start": off,
        "stop": gr.update(interactive=True, value="Stop"),
        "checkpoint": gr.update(visible=False),
        "race_files": gr.update(visible=False),
        "metrics": gr.update(visible=not racing),
        "race_table": gr.update(visible=racing),
    }


def unlock(checkpoint: Any, files: Any) -> dict[str, Any]:
    """The run ended: the start buttons on, Stop off, the downloads shown when checkpoints were kept."""
    on = gr.update(interactive=True)
    return {
        "start": on,
        "race_start": on,
        "stop": gr.update(interactive=False, value="Stop"),
        "checkpoint": gr.update(visible=bool(checkpoint)),
        "race_files": gr.update(visible=bool(files)),
    }


def from_compare(refs: list[str] | None, saved: dict[str, str] | None) -> dict[str, Any]:
    """The Compare tab's selection -> the Train tab's model (the first) and race (the others), its saved
    designs copied, and the Train tab shown (``"tabs"``)."""
    chosen = list(dict.fromkeys(refs or []))[: 1 + MAX_RACE_OTHERS]
    out: dict[str, Any] = {"saved": dict(saved or {}), "tabs": gr.Tabs(selected="train")}
    if chosen:
        choices = model_choices(saved)
        out["model"] = gr.update(choices=choices, value=chosen[0])
        out["race_with"] = gr.update(choices=choices, value=chosen[1:])
    return out
