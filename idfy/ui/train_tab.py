"""Train tab: a short, live training run — or a race of 2–4 designs — of presets or the Design tab's design.

It opens on the demo: the engine's default :class:`~idfy.train_config.TrainConfig` (the run that
``python -m idfy train`` starts with no flags) and :func:`default_model`; :class:`TrainSettings` reads those
defaults in one place. Start streams the run (:func:`run_training`, a generator over :func:`idfy.train.train`'s
events): a status line (step, epoch, smoothed images/s, elapsed, lr), live loss and held-out curves with the
chance level of the held-out set drawn in (:mod:`idfy.chance`), a grid of sample predictions with their boxes,
then the verdict (did the model beat chance, and by how much), the final metrics per class and the checkpoint.

With designs under "race against", Start race runs :func:`run_race` (:mod:`idfy.race`): the designs train in
turns on the same data, seed and budget, with overlaid curves, their sample predictions side by side and a final
table. The Compare tab's "Race these" fills the two fields (:func:`connect_compare`). What the page shows of a
run is drawn by :mod:`idfy.ui.run_view`, of a race by :mod:`idfy.ui.race_view`; this module holds the settings,
the runs and the layout.

Stop sets the session's stop event (:mod:`idfy.ui.jobs`): the engine ends every run cleanly and the checkpoints
are kept. The kept checkpoint (a race's winner) is the session's "latest from Train" in the Predict tab.
Only :func:`idfy.ui.jobs.max_trainings` runs (a race counts as one) train at once; later ones wait in line and
see their place. Every failure is shown in the status line with the library's message, never a traceback.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import math
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from idfy import train_config as _engine
from idfy.chance import chance_level
from idfy.config import ConfigError, ModelConfig
from idfy.data import describe_datasets
from idfy.events import Done, Failed
from idfy.presets import list_presets, preset_config
from idfy.train_config import TrainConfig
from idfy.ui.jobs import REGISTRY, JobError, JobRegistry
from idfy.ui.race_view import RaceView
from idfy.ui.run_view import METRIC_HEADERS, RunView, curves_figure, idle_status, metrics_rows
from idfy.ui.run_view import plot as _plot
from idfy.ui.sample_pictures import samples_image

__all__ = [
    "BATCH_SIZES",
    "CURRENT_DESIGN",
    "METRIC_HEADERS",
    "RUN_OVERRIDES",
    "RunView",
    "TrainSettings",
    "TrainTab",
    "augmentations",
    "batch_sizes",
    "build",
    "connect_compare",
    "curves_figure",
    "default_model",
    "make_configs",
    "make_race",
    "metrics_rows",
    "run_race",
    "run_training",
    "samples_image",
    "start_race",
    "start_training",
    "stop_training",
]

log = logging.getLogger("idfy.ui")

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
#: Seconds between two page updates from :class:`Step` events (Eval / Samples / the end always update).
REFRESH_S = 0.4
WAIT_POLL_S = 0.5
INTERNAL_ERROR = "the training failed unexpectedly (the details are in the server log)"


# --------------------------------------------------------------------------- the demo's defaults (one place)
def default_model() -> str:
    """The design the tab starts with: the engine's demo design, :data:`idfy.train_config.DEFAULT_PRESET` (read
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
        return _label(self.model)

    @property
    def budget_text(self) -> str:
        return f"{self.budget:g} s" if self.budget_kind == "seconds" else f"{int(self.budget)} steps"


def _label(ref: str) -> str:
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
    from idfy.ui.limits import check_memory

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
    if settings.optimizer not in ("adamw", "sgd"):
        raise ValueError("optimizer: choose adamw or sgd")
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
    from idfy.race import MAX_ENTRANTS, Entrant, unique_names

    refs = [settings.model, *settings.race]
    if len(refs) < 2:
        raise ValueError("race: choose at least one design under 'race against'")
    if len(refs) > MAX_ENTRANTS:
        raise ValueError(f"race: at most {MAX_ENTRANTS} designs (the model and {MAX_ENTRANTS - 1} others)")
    tc = _train_config(settings)
    cfgs = [
        make_configs(dataclasses.replace(settings, model=r, race=()), config_yaml, saved)[0] for r in refs
    ]
    names = unique_names([CURRENT_DESIGN if r == CURRENT_DESIGN else _label(r) for r in refs])
    return [Entrant(n, c) for n, c in zip(names, cfgs)], tc


# --------------------------------------------------------------------------- the runs
def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60]


def _clear_kept(folder: Path) -> None:
    for old in folder.glob("idfy-*.pt"):
        old.unlink(missing_ok=True)


def _keep_checkpoint(registry: JobRegistry, session: str, view: RunView, done: Done) -> None:
    """Copy the run's checkpoint next to the session (a descriptive name, replacing older ones) and remember it
    as the session's latest for the Predict tab."""
    if not done.checkpoint or not Path(done.checkpoint).is_file():
        return
    s = view.settings
    model = view.start.model_config.name if view.start is not None else s.model
    folder = registry.session_dir(session)
    dest = folder / f"idfy-{_slug(f'{model}-{s.dataset}')}-{s.size}px-step{done.step}.pt"
    _clear_kept(folder)
    shutil.copyfile(done.checkpoint, dest)
    view.checkpoint = str(dest)
    metrics = done.metrics or {}
    registry.set_latest(
        session,
        dest,
        {
            "model": model,
            "dataset": s.dataset,
            "size": s.size,
            "step": done.step,
            "reason": done.reason,
            "classes": list(done.classes),
            "loc_accuracy": metrics.get("loc_accuracy"),
            "accuracy": metrics.get("accuracy"),
            "chance": view.chance.to_dict() if view.chance is not None else None,
        },
    )


def _wait_in_line(ticket: Any, view: Any, registry: JobRegistry) -> Iterator[bool]:
    """Yield while the ticket waits (the view shows its place); the last value says whether it may run."""
    while not ticket.wait(WAIT_POLL_S):
        if ticket.stop.is_set():
            yield False
            return
        view.state, view.position = "waiting", ticket.position()
        view.running, view.limit = registry.counts()[0], registry.limit
        yield True
    yield True


def run_training(
    settings: TrainSettings,
    config_yaml: str | None,
    session: str,
    *,
    registry: JobRegistry = REGISTRY,
    saved: dict[str, str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Run one training for ``session`` and yield the page's outputs (see :meth:`RunView.outputs`) as it goes;
    the last yield is the final state (done, stopped or failed) with every value."""
    from idfy.race import load_data
    from idfy.train import train

    view = RunView(settings)
    try:
        model_cfg, tc = make_configs(settings, config_yaml, saved)
        ticket = registry.submit(session)
    except (ConfigError, ValueError, JobError) as e:
        view.fail(str(e))
        yield view.outputs(final=True)
        return
    events = None
    run_dir: Path | None = None
    try:
        for may_run in _wait_in_line(ticket, view, registry):
            if not may_run:
                view.state, view.message = "stopped", "stopped before it started (it was waiting in line)"
                yield view.outputs(final=True)
                return
            if view.state == "waiting":
                yield view.outputs()
        view.state = "preparing"
        yield view.outputs()
        t_prep = time.monotonic()
        try:
            data = load_data(tc)  # the engine's own data; built here so the chance level comes from it
        except (ConfigError, ValueError, FileNotFoundError) as e:
            view.fail(str(e))
            data = None
        if data is not None:
            view.chance = chance_level(data[1])
            view.prep_s = time.monotonic() - t_prep
            if tc.time_budget_s is not None:  # the budget counts the data preparation, as in the CLI
                tc = tc.replace(time_budget_s=max(1.0, tc.time_budget_s - view.prep_s))
            run_dir = registry.new_run_dir(session)
            events = train(model_cfg, tc, out_dir=run_dir, stop=ticket.stop, data=data)
            last = time.monotonic()
            for ev in events:
                refresh = view.apply(ev)
                if isinstance(ev, Done):
                    _keep_checkpoint(registry, session, view, ev)
                    break
                if isinstance(ev, Failed):
                    break
                if ticket.stop.is_set() and view.state == "training":
                    view.state = "stopping"
                    refresh = True
                now = time.monotonic()
                if refresh or now - last >= REFRESH_S:
                    last = now
                    yield view.outputs()
    except Exception:  # never a traceback in the page
        log.exception("training failed")
        view.fail(INTERNAL_ERROR)
    finally:
        ticket.stop.set()  # if the page went away mid-run, the engine stops at its next step
        if events is not None:
            events.close()
        if run_dir is not None:  # the kept checkpoint was copied out; the rest of the run folder goes
            shutil.rmtree(run_dir, ignore_errors=True)
        ticket.release()
    if view.state in ("training", "stopping", "preparing"):  # the events ended without Done / Failed
        view.fail(INTERNAL_ERROR)
    yield view.outputs(final=True)


def _race_outputs(view: RaceView, final: bool = False) -> tuple[Any, ...]:
    """(status, curves, side-by-side samples, final table, checkpoint files) of a race."""
    image: Any = gr.update()
    if view.samples_changed or final:
        image = view.samples_picture()
        view.samples_changed = False
    headers, rows = view.table()
    table: Any = (
        {"headers": headers, "data": rows}
        if rows
        else ({"headers": ["design"], "data": []} if final else gr.update())
    )
    files: Any = list(view.files) if (view.files or final) else gr.update()
    if final and not view.files:
        files = None
    return view.status_html(), _plot(view.figure()), image, table, files


def _keep_race(registry: JobRegistry, session: str, view: RaceView, settings: TrainSettings) -> None:
    """Copy every run's checkpoint (best, else last) next to the session; the winner's becomes the Predict
    tab's latest."""
    if view.done is None:
        return
    folder = registry.session_dir(session)
    _clear_kept(folder)
    kept: list[tuple[Any, Path]] = []
    for i, s in enumerate(view.done.standings):
        src = s.checkpoint or s.last_checkpoint
        if not src or not Path(src).is_file():
            continue
        dest = (
            folder
            / f"idfy-race{i + 1}-{_slug(f'{s.name}-{settings.dataset}')}-{settings.size}px-step{s.step}.pt"
        )
        shutil.copyfile(src, dest)
        kept.append((s, dest))
    view.files = [str(d) for _, d in kept]
    scored = [(s, d) for s, d in kept if s.score is not None]
    if not scored:
        return
    best, dest = max(scored, key=lambda sd: sd[0].score or 0.0)
    start = view.starts[view.done.standings.index(best)]
    registry.set_latest(
        session,
        dest,
        {
            "model": best.name,
            "dataset": settings.dataset,
            "size": settings.size,
            "step": best.step,
            "classes": list(start.classes) if start is not None else [],
            "loc_accuracy": best.metrics.get("loc_accuracy"),
            "accuracy": best.metrics.get("accuracy"),
            "chance": view.chance.to_dict() if view.chance is not None else None,
        },
    )


def run_race(
    settings: TrainSettings,
    config_yaml: str | None,
    session: str,
    *,
    registry: JobRegistry = REGISTRY,
    saved: dict[str, str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Race ``settings.model`` against ``settings.race`` for ``session`` (:func:`idfy.race.race`) and yield the
    page's outputs (status, curves, samples, table, checkpoint files); the last yield carries every value."""
    from idfy.race import race

    names = [settings.model_label, *(_label(r) for r in settings.race)]
    title = (
        f"{settings.dataset} · {settings.size} px · {settings.budget_text} per design (its own compute) · "
        f"{settings.optimizer} lr {settings.lr:g} · batch {settings.batch_size} · same data, seed and order"
    )
    try:
        entrants, tc = make_race(settings, config_yaml, saved)
        view = RaceView([e.name for e in entrants], title, tc.time_budget_s, tc.max_steps)
        ticket = registry.submit(session)
    except (ConfigError, ValueError, JobError) as e:
        view = RaceView(names, title)
        view.fail(str(e))
        yield _race_outputs(view, final=True)
        return
    items = None
    run_dir: Path | None = None
    try:
        for may_run in _wait_in_line(ticket, view, registry):
            if not may_run:
                view.state, view.message = "stopped", "stopped before it started (it was waiting in line)"
                yield _race_outputs(view, final=True)
                return
            if view.state == "waiting":
                yield _race_outputs(view)
        view.state = "preparing"
        yield _race_outputs(view)
        run_dir = registry.new_run_dir(session)
        items = race(entrants, tc, out_dir=run_dir, stop=ticket.stop)
        last = time.monotonic()
        try:
            for item in items:
                refresh = view.apply(item)
                if ticket.stop.is_set() and view.state == "racing":
                    view.state, refresh = "stopping", True
                now = time.monotonic()
                if view.done is not None:
                    _keep_race(registry, session, view, settings)
                    break
                if refresh or now - last >= REFRESH_S:
                    last = now
                    yield _race_outputs(view)
        except (ConfigError, ValueError, FileNotFoundError) as e:  # settings or data refused by the race
            view.fail(str(e))
    except Exception:  # never a traceback in the page
        log.exception("race failed")
        view.fail(INTERNAL_ERROR)
    finally:
        ticket.stop.set()
        if items is not None:
            items.close()
        if run_dir is not None:
            shutil.rmtree(run_dir, ignore_errors=True)
        ticket.release()
    if view.state in ("racing", "stopping", "preparing"):
        view.fail(INTERNAL_ERROR)
    yield _race_outputs(view, final=True)


# --------------------------------------------------------------------------- handlers
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
) -> Iterator[tuple[Any, ...]]:
    """Gradio handler of Start (``/train``): stream (status HTML, curves, samples image, metrics rows,
    checkpoint file) until the run ends."""
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
) -> Iterator[tuple[Any, ...]]:
    """Gradio handler of Start race (``/race``): ``model`` against ``race_with`` (1–3 designs); streams (status
    HTML, overlaid curves, side-by-side samples, final table, checkpoint files) until every run ends."""
    settings = _settings(
        dataset, size, model, budget_kind, budget, optimizer, lr, batch_size, augment, race_with
    )
    yield from run_race(settings, config_yaml, _session(request), saved=saved)


def stop_training(request: gr.Request = None) -> str:  # type: ignore[assignment]
    """Gradio handler of Stop (``/stop_training``): ask this session's training or race to stop."""
    if REGISTRY.stop(_session(request)):
        return "stop requested: every run ends after its current step and keeps its checkpoint"
    return "no training of this page is running"


# --------------------------------------------------------------------------- layout
_CSS = """
.ts { border: 1px solid #e2e6f0; border-left: 5px solid #6366f1; border-radius: 10px; padding: 9px 12px;
  background: #fff; font-size: 13.5px; color: #0f172a; }
.head { display: flex; gap: 10px; align-items: center; }
.badge { flex: none; text-transform: uppercase; letter-spacing: .06em; font-size: 11px; font-weight: 700;
  padding: 2px 8px; border-radius: 999px; background: #eef2ff; color: #3730a3; }
.msg { font-weight: 600; }
.sub { color: #64748b; font-size: 12px; margin-top: 3px; }
.bar { height: 6px; background: #eef2f7; border-radius: 999px; margin-top: 8px; overflow: hidden; }
.bar > div { height: 100%; background: linear-gradient(90deg, #6366f1, #0ea5e9); border-radius: 999px;
  transition: width .3s; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.chip { background: #f1f5f9; border-radius: 6px; padding: 2px 8px; font-size: 12.5px;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
.chip b { color: #64748b; font-weight: 600; margin-right: 3px; }
.verdict { margin-top: 8px; padding: 5px 10px; border-radius: 8px; font-weight: 650; font-size: 13.5px; }
.verdict[data-beat=yes] { background: #d1fae5; color: #065f46; }
.verdict[data-beat=no] { background: #fee2e2; color: #991b1b; }
.runs { margin-top: 6px; display: grid; gap: 3px; font-size: 12.5px; font-variant-numeric: tabular-nums; }
.run .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; }
.verdicts { margin: 6px 0 0; padding-left: 18px; font-size: 12.5px; }
.verdicts li[data-beat=yes] { color: #065f46; } .verdicts li[data-beat=no] { color: #991b1b; }
.notes { margin: 6px 0 0; padding-left: 18px; color: #92400e; font-size: 12px; }
.ts[data-state=waiting] { border-left-color: #f59e0b; } .ts[data-state=waiting] .badge { background: #fef3c7; color: #92400e; }
.ts[data-state=done] { border-left-color: #10b981; } .ts[data-state=done] .badge { background: #d1fae5; color: #065f46; }
.ts[data-state=stopped], .ts[data-state=stopping] { border-left-color: #64748b; }
.ts[data-state=stopped] .badge, .ts[data-state=stopping] .badge { background: #e2e8f0; color: #334155; }
.ts[data-state=failed] { border-left-color: #dc2626; background: #fef2f2; }
.ts[data-state=failed] .badge { background: #dc2626; color: #fff; }
.ts[data-state=failed] .msg { color: #7f1d1d; }
.ts[data-state=idle] .badge { background: #f1f5f9; color: #475569; }
"""


def _dataset_info(name: str) -> str:
    return f"<div style='font-size:12px;color:#64748b;margin:-2px 2px 2px'>{html.escape(describe_datasets().get(name, ''))}</div>"


def _model_choices(saved: dict[str, str] | None = None) -> list[Any]:
    return [
        *list_presets(),
        (f"{CURRENT_DESIGN} (Design tab)", CURRENT_DESIGN),
        *(SAVED_PREFIX + n for n in (saved or {})),
    ]


def _budget_default(kind: str) -> Any:
    tc = TrainConfig()
    if kind == "steps":
        return gr.update(value=tc.max_steps or 300, label="budget (steps)", maximum=MAX_STEPS)
    return gr.update(value=tc.time_budget_s or 60, label="budget (seconds)", maximum=MAX_SECONDS)


def _race_mode(race_with: list[str] | None) -> tuple[Any, Any, Any]:
    """Designs under "race against": Start race replaces Start and the budget is per design."""
    racing = bool(race_with)
    label = "budget per design (seconds)" if racing else "budget (seconds)"
    return gr.update(visible=not racing), gr.update(visible=racing), gr.update(label=label)


def _lock(racing: bool) -> tuple[Any, ...]:
    """Start pressed: the start buttons off, Stop on, the previous downloads hidden, the right table shown."""
    off = gr.update(interactive=False)
    return (
        off,
        off,
        gr.update(interactive=True, value="Stop"),
        gr.update(visible=False),
        gr.update(visible=False),
        gr.update(visible=not racing),
        gr.update(visible=racing),
    )


def _unlock(checkpoint: Any, files: Any) -> tuple[Any, ...]:
    """The run ended: the start buttons on, Stop off, the downloads shown when checkpoints were kept."""
    on = gr.update(interactive=True)
    return (
        on,
        on,
        gr.update(interactive=False, value="Stop"),
        gr.update(visible=bool(checkpoint)),
        gr.update(visible=bool(files)),
        gr.update(),
        gr.update(),
    )


def _stopping() -> Any:
    return gr.update(interactive=False, value="Stopping …")


@dataclass
class TrainTab:
    """The Train tab's components another tab may fill (see :func:`connect_compare`)."""

    model: Any
    race_with: Any
    saved: Any


def build(config_state: gr.State) -> TrainTab:
    """Build the Train tab inside the current ``gr.Tab``; ``config_state`` holds the Design tab's YAML."""
    demo = TrainSettings()
    datasets = describe_datasets()
    with gr.Row(equal_height=False, elem_id="train-row"):
        with gr.Column(scale=1, min_width=300, elem_id="train-controls"):
            with gr.Row(elem_id="train-buttons"):
                start = gr.Button("Start", variant="primary", min_width=90, scale=2, elem_id="train-start")
                race_start = gr.Button(
                    "Start race",
                    variant="primary",
                    visible=False,
                    min_width=90,
                    scale=2,
                    elem_id="train-race-start",
                )
                stop = gr.Button(
                    "Stop", variant="stop", interactive=False, min_width=70, scale=1, elem_id="train-stop"
                )
            model = gr.Dropdown(
                _model_choices(),
                value=demo.model,
                label="model",
                info="a preset, or the design being edited in the Design tab",
                elem_id="train-model",
            )
            race_with = gr.Dropdown(
                _model_choices(),
                value=[],
                multiselect=True,
                max_choices=MAX_RACE_OTHERS,
                label="race against (optional)",
                info="1–3 more designs, trained in turns on the same data, seed and budget",
                elem_id="train-race-with",
            )
            dataset = gr.Radio(list(datasets), value=demo.dataset, label="dataset", elem_id="train-dataset")
            dataset_info = gr.HTML(_dataset_info(demo.dataset), elem_id="train-dataset-info", js_on_load=None)
            size = gr.Slider(
                MIN_SIZE, MAX_SIZE, value=demo.size, step=8, label="input size (px)", elem_id="train-size"
            )
            with gr.Row():
                budget_kind = gr.Radio(
                    ["seconds", "steps"], value=demo.budget_kind, label="budget in", min_width=120
                )
                budget = gr.Number(
                    demo.budget,
                    label=f"budget ({demo.budget_kind})",
                    minimum=1,
                    maximum=MAX_SECONDS if demo.budget_kind == "seconds" else MAX_STEPS,
                    min_width=100,
                    elem_id="train-budget",
                )
            with gr.Row():
                optimizer = gr.Radio(["adamw", "sgd"], value=demo.optimizer, label="optimizer", min_width=120)
                lr = gr.Number(demo.lr, label="learning rate", minimum=0, min_width=100, elem_id="train-lr")
            batch = gr.Dropdown(  # custom values pass to the handler, which accepts "16" and 16 alike and
                # refuses the rest in one line (Gradio's own check would refuse the string its API lists)
                list(batch_sizes()),
                value=demo.batch_size,
                label="batch size",
                elem_id="train-batch",
                allow_custom_value=True,
            )
            choices = augmentations()
            augment = gr.CheckboxGroup(
                list(choices),
                value=list(demo.augment),
                label="augmentation",
                info=(
                    f"horizontal flips · shifts ≤ {100 * choices['shift']['translate']:.0f} % · "
                    f"random erasing (p = {choices['erase']['erase']:g})"
                ),
                elem_id="train-augment",
            )
        with gr.Column(scale=3, elem_id="train-results"):
            status = gr.HTML(
                idle_status(demo), label="status", css_template=_CSS, js_on_load=None, elem_id="train-status"
            )
            curves = gr.Plot(
                _plot(curves_figure([], [])), label="curves", show_label=False, elem_id="train-curves"
            )
            with gr.Row(equal_height=False):
                samples = gr.Image(
                    type="pil",
                    label="sample predictions",
                    show_label=False,
                    interactive=False,
                    format="png",
                    scale=1,
                    elem_id="train-samples",
                    buttons=["download", "fullscreen"],
                )
                with gr.Column(scale=1, min_width=280):
                    metrics = gr.Dataframe(
                        headers=METRIC_HEADERS,
                        value=[],
                        label="final held-out metrics",
                        interactive=False,
                        max_height=420,
                        elem_id="train-metrics",
                    )
                    ckpt_file = gr.File(
                        label="checkpoint (.pt) to download — also the Predict tab's model",
                        interactive=False,
                        height=70,
                        visible=False,
                        elem_id="train-checkpoint",
                    )
            race_table = gr.Dataframe(
                headers=["design"],
                value=[],
                label="race: final held-out metrics (Δ against the first design)",
                interactive=False,
                wrap=True,
                visible=False,
                elem_id="train-race-table",
            )
            race_files = gr.File(
                label="every design's checkpoint (.pt) — the winner's is the Predict tab's model",
                file_count="multiple",
                interactive=False,
                visible=False,
                elem_id="train-race-files",
            )
    saved = gr.State({})  # designs saved in the Compare tab, handed over with "Race these"

    dataset.change(
        _dataset_info, dataset, dataset_info, api_visibility="private", queue=False, show_progress="hidden"
    )
    budget_kind.change(
        _budget_default, budget_kind, budget, api_visibility="private", queue=False, show_progress="hidden"
    )
    race_with.change(
        _race_mode,
        race_with,
        [start, race_start, budget],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    lock_targets = [start, race_start, stop, ckpt_file, race_files, metrics, race_table]
    common = [budget_kind, budget, optimizer, lr, batch, augment, config_state, saved]
    start.click(
        lambda: _lock(False),
        None,
        lock_targets,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    ).then(
        start_training,
        [dataset, size, model, *common],
        [status, curves, samples, metrics, ckpt_file],
        api_name="train",
        show_progress="hidden",
        concurrency_limit=16,  # the job registry runs IDFY_MAX_TRAININGS of them; the rest wait visibly
        concurrency_id="idfy-train",
    ).then(
        _unlock,
        [ckpt_file, race_files],
        lock_targets,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    race_start.click(
        lambda: _lock(True), None, lock_targets, api_visibility="private", queue=False, show_progress="hidden"
    ).then(
        start_race,
        [dataset, size, model, race_with, *common],
        [status, curves, samples, race_table, race_files],
        api_name="race",
        show_progress="hidden",
        concurrency_limit=16,
        concurrency_id="idfy-train",
    ).then(
        _unlock,
        [ckpt_file, race_files],
        lock_targets,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    # /stop_training's answer for API clients (the page shows the status line instead)
    stop_note = gr.Textbox(label="answer", visible=False, elem_id="train-stop-note")
    stop.click(
        stop_training,
        None,
        stop_note,
        api_name="stop_training",
        show_progress="hidden",
        concurrency_limit=None,  # never waits behind trainings or predictions
        concurrency_id="idfy-stop",
    ).then(_stopping, None, stop, api_visibility="private", queue=False, show_progress="hidden")
    return TrainTab(model=model, race_with=race_with, saved=saved)


def _from_compare(refs: list[str] | None, saved: dict[str, str] | None) -> tuple[Any, ...]:
    """The Compare tab's selection -> the Train tab's model (the first) and race (the others), then the Train
    tab is shown."""
    chosen = list(dict.fromkeys(refs or []))[: 1 + MAX_RACE_OTHERS]
    choices = _model_choices(saved)
    if not chosen:
        return gr.update(), gr.update(), dict(saved or {}), gr.Tabs(selected="train")
    return (
        gr.update(choices=choices, value=chosen[0]),
        gr.update(choices=choices, value=chosen[1:]),
        dict(saved or {}),
        gr.Tabs(selected="train"),
    )


def connect_compare(tab: TrainTab, designs: Any, button: Any, saved: Any, tabs: Any) -> None:
    """Wire the Compare tab's "Race these" ``button``: its ``designs`` selection (and its ``saved`` designs) fill
    the Train tab's model and race fields, and ``tabs`` switches to the Train tab (its id ``train``)."""
    button.click(
        _from_compare,
        [designs, saved],
        [tab.model, tab.race_with, tab.saved, tabs],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
