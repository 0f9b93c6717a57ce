"""The Train tab's runs: one training (:func:`run_training`) or a race (:func:`run_race`) for a page session,
streamed as ``{name: value}`` of what changed on the page (names in :data:`RUN_OUTPUTS` / :data:`RACE_OUTPUTS`).

Both wait in line in the session's :class:`~idfy.ui.jobs.JobRegistry`, stop cleanly on the session's stop event,
keep the checkpoints next to the session (the latest, or a race's winner, is the Predict tab's model) and end
with a final output that carries every value (what an API client receives). A failure shows the library's
one-line message in the status, never a traceback (that goes to the server log).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from idfy.config import ConfigError
from idfy.train import train
from idfy.train.config import TrainConfig
from idfy.train.events import Done, Failed
from idfy.train.race import Standing, race
from idfy.ui.jobs import REGISTRY, JobError, JobRegistry, Ticket
from idfy.ui.race_view import RaceView
from idfy.ui.run_view import RunView
from idfy.ui.run_view import plot as _plot
from idfy.ui.tabs.train.prepared import prepared_data
from idfy.ui.tabs.train.settings import TrainSettings, label, make_configs, make_race

__all__ = ["INTERNAL_ERROR", "RACE_OUTPUTS", "REFRESH_S", "RUN_OUTPUTS", "run_race", "run_training"]

log = logging.getLogger("idfy.ui")

#: Seconds between two page updates from :class:`Step` events (Eval / Samples / the end always update).
REFRESH_S = 0.4
WAIT_POLL_S = 0.5
INTERNAL_ERROR = "the training failed unexpectedly (the details are in the server log)"
#: What a run shows: status HTML, curves, sample predictions, final metrics rows, the kept checkpoint.
RUN_OUTPUTS = ("status", "curves", "samples", "metrics", "checkpoint")
#: What a race shows: status HTML, overlaid curves, side-by-side samples, final table, every checkpoint.
RACE_OUTPUTS = ("status", "curves", "samples", "race_table", "race_files")
STOPPED_WAITING = "stopped before it started (it was waiting in line)"


def _changed(names: tuple[str, ...], values: tuple[Any, ...], final: bool) -> dict[str, Any]:
    """``{name: value}`` without the parts that did not change (``gr.update()``), except in a final output."""
    return {k: v for k, v in zip(names, values, strict=True) if final or not _is_no_change(v)}


def _is_no_change(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__type__") == "update" and len(value) == 1


def _run_out(view: RunView, final: bool = False) -> dict[str, Any]:
    return _changed(RUN_OUTPUTS, view.outputs(final=final), final)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:60]


def _clear_kept(folder: Path) -> None:
    for old in folder.glob("idfy-*.pt"):
        old.unlink(missing_ok=True)


def _keep_checkpoint(registry: JobRegistry, session: str, view: RunView, done: Done) -> None:
    """Copy the run's final checkpoint (the weights its final metrics measured) next to the session, named with
    that step and replacing older ones, and remember it as the session's latest for the Predict tab."""
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


def _wait_then_prepare(
    ticket: Any, view: Any, registry: JobRegistry, out: Callable[[Any], dict[str, Any]]
) -> Generator[dict[str, Any], None, bool]:
    """Stream ``out(view)`` while the ticket waits (the view shows its place), then once as "preparing".

    Returns whether the job may run (False: stopped while waiting, the view says so)."""
    while not ticket.wait(WAIT_POLL_S):
        if ticket.stop.is_set():
            view.state, view.message = "stopped", STOPPED_WAITING
            return False
        view.state, view.position = "waiting", ticket.position()
        view.running, view.limit = registry.counts()[0], registry.limit
        yield out(view)
    view.state = "preparing"
    yield out(view)
    return True


def _follow(
    events: Iterator[Any], view: RunView, ticket: Ticket, keep: Callable[[Done], None]
) -> Iterator[dict]:
    """The run's events onto ``view``; yields the page's changes at most every :data:`REFRESH_S` seconds."""
    last = time.monotonic()
    for ev in events:
        refresh = view.apply(ev)
        if isinstance(ev, Done):
            keep(ev)
            return
        if isinstance(ev, Failed):
            return
        if ticket.stop.is_set() and view.state == "training":
            view.state, refresh = "stopping", True
        now = time.monotonic()
        if refresh or now - last >= REFRESH_S:
            last = now
            yield _run_out(view)


def _train_when_free(
    ticket: Ticket, view: RunView, registry: JobRegistry, session: str, cfg: Any, tc: TrainConfig
) -> Iterator[dict[str, Any]]:
    """Wait in line, load the data (its preparation counts toward the budget), then train and follow the events."""
    if not (yield from _wait_then_prepare(ticket, view, registry, _run_out)):
        return
    try:  # the engine's own data, kept or built here so its preparation time is known
        data, view.prep_s = prepared_data(tc)
    except (ConfigError, ValueError, FileNotFoundError) as e:
        view.fail(str(e))
        return
    if tc.time_budget_s is not None:  # the budget counts the data preparation, as in the CLI
        tc = tc.replace(time_budget_s=max(1.0, tc.time_budget_s - view.prep_s))
    run_dir = registry.new_run_dir(session)
    events = train(cfg, tc, out_dir=run_dir, stop=ticket.stop, data=data)
    try:
        yield from _follow(events, view, ticket, lambda done: _keep_checkpoint(registry, session, view, done))
    finally:
        ticket.stop.set()  # if the page went away mid-run, the engine stops at its next step
        events.close()
        shutil.rmtree(run_dir, ignore_errors=True)  # the kept checkpoint was copied out


def run_training(
    settings: TrainSettings,
    config_yaml: str | None,
    session: str,
    *,
    registry: JobRegistry = REGISTRY,
    saved: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run one training for ``session``; yields ``{name: value}`` (names of :data:`RUN_OUTPUTS`) for what
    changed; the last yield is the final state (done, stopped or failed) with every value."""
    view = RunView(settings)
    try:
        model_cfg, tc = make_configs(settings, config_yaml, saved)
        ticket = registry.submit(session)
    except (ConfigError, ValueError, JobError) as e:
        view.fail(str(e))
        yield _run_out(view, final=True)
        return
    try:
        yield from _train_when_free(ticket, view, registry, session, model_cfg, tc)
    except Exception:  # never a traceback in the page
        log.exception("training failed")
        view.fail(INTERNAL_ERROR)
    finally:
        ticket.stop.set()
        ticket.release()
    if view.state in ("training", "stopping", "preparing"):  # the events ended without Done / Failed
        view.fail(INTERNAL_ERROR)
    yield _run_out(view, final=True)


def _race_out(view: RaceView, final: bool = False) -> dict[str, Any]:
    """The race's page changes (names of :data:`RACE_OUTPUTS`); the final one carries every value."""
    out: dict[str, Any] = {"status": view.status_html(), "curves": _plot(view.figure())}
    if view.samples_changed or final:
        out["samples"] = view.samples_picture()
        view.samples_changed = False
    headers, rows = view.table()
    if rows or final:
        out["race_table"] = {"headers": headers if rows else ["design"], "data": rows}
    if view.files or final:
        out["race_files"] = list(view.files) or None
    return out


def _keep_race(registry: JobRegistry, session: str, view: RaceView, settings: TrainSettings) -> None:
    """Copy every run's checkpoint next to the session, each named with the step of the weights inside: a run
    that ended its final one (the weights its row's metrics measured), a failed run its newest file. The winner's
    becomes the Predict tab's latest."""
    if view.done is None:
        return
    folder = registry.session_dir(session)
    _clear_kept(folder)
    kept: list[tuple[Any, Path]] = []
    scored: list[tuple[Any, Path]] = []
    for i, s in enumerate(view.done.standings):
        found = _race_file(s)
        if found is None:
            continue
        src, step = found
        dest = (
            folder
            / f"idfy-race{i + 1}-{_slug(f'{s.name}-{settings.dataset}')}-{settings.size}px-step{step}.pt"
        )
        shutil.copyfile(src, dest)
        kept.append((s, dest))
        if s.score is not None and src == s.checkpoint:  # its metrics measured the weights in this file
            scored.append((s, dest))
    view.files = [str(d) for _, d in kept]
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


def _race_file(s: Standing) -> tuple[str, int] | None:
    """The file to keep of race run ``s`` and the step of its weights: the final checkpoint of a run that ended,
    else (a failed run) its newest ``last.pt``, else its ``best.pt``; None when none exists."""
    candidates = [(s.checkpoint, s.step), (s.last_checkpoint, s.last_step), (s.best_checkpoint, s.best_step)]
    for path, step in candidates:
        if path and step is not None and Path(path).is_file():
            return path, step
    return None


def _race_when_free(
    ticket: Ticket, view: RaceView, registry: JobRegistry, session: str, entrants: list[Any], tc: TrainConfig,
    settings: TrainSettings,
) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Wait in line, then race and follow the race's items onto ``view``."""
    if not (yield from _wait_then_prepare(ticket, view, registry, _race_out)):
        return
    try:
        data, _ = prepared_data(tc)
    except (ConfigError, ValueError, FileNotFoundError) as e:  # settings or data refused
        view.fail(str(e))
        return
    run_dir = registry.new_run_dir(session)
    items = race(entrants, tc, out_dir=run_dir, stop=ticket.stop, data=data)
    last = time.monotonic()
    try:
        for item in items:
            refresh = view.apply(item)
            if ticket.stop.is_set() and view.state == "racing":
                view.state, refresh = "stopping", True
            if view.done is not None:
                _keep_race(registry, session, view, settings)
                return
            now = time.monotonic()
            if refresh or now - last >= REFRESH_S:
                last = now
                yield _race_out(view)
    except (ConfigError, ValueError, FileNotFoundError) as e:  # settings or data refused by the race
        view.fail(str(e))
    finally:
        ticket.stop.set()
        items.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def run_race(
    settings: TrainSettings,
    config_yaml: str | None,
    session: str,
    *,
    registry: JobRegistry = REGISTRY,
    saved: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Race ``settings.model`` against ``settings.race`` for ``session`` (:func:`idfy.train.race.race`); yields
    ``{name: value}`` (names of :data:`RACE_OUTPUTS`) for what changed; the last yield carries every value."""
    names = [settings.model_label, *(label(r) for r in settings.race)]
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
        yield _race_out(view, final=True)
        return
    try:
        yield from _race_when_free(ticket, view, registry, session, entrants, tc, settings)
    except Exception:  # never a traceback in the page
        log.exception("race failed")
        view.fail(INTERNAL_ERROR)
    finally:
        ticket.stop.set()
        ticket.release()
    if view.state in ("racing", "stopping", "preparing"):
        view.fail(INTERNAL_ERROR)
    yield _race_out(view, final=True)
