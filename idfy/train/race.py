"""A race: 2–4 designs trained on the same data, seed and time budget in one process, fairly on a shared CPU.

>>> from idfy import load_preset
>>> from idfy.train.race import Entrant, race
>>> from idfy.train.config import TrainConfig
>>> entrants = [Entrant("tiny_tuned", load_preset("tiny_tuned")), Entrant("medium", load_preset("medium"))]
>>> for item in race(entrants, TrainConfig(data="fashion-canvas", time_budget_s=60)):
...     print(item)

Fairness:

* the data are built once and every run trains on the same tensors; every run draws its batch order and its
  augmentation from its own generator seeded with the same ``seed``, so two runs see the same images in the same
  order (and two copies of one design train identically);
* the runs take turns in one process (never two at once, so none slows another down), and each run's time budget,
  schedule and images/s count only its own compute: each has a stopwatch that runs only while it is driven
  (``train(clock=...)``). The next turn goes to the run with the least time used, so the runs advance side by
  side and their curves can be overlaid on one time axis. The race takes about ``len(entrants)`` times the
  budget of wall time.

:func:`race` yields :class:`RaceStart`, then a :class:`Lap` for every training event of every run (see
:mod:`idfy.train.events`), then :class:`RaceDone` with the final :class:`Standing` of each run. Setting ``stop`` ends
every run cleanly (final evaluation, checkpoint kept).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idfy.config import ModelConfig
from idfy.train.chance import Chance, Verdict, chance_level, verdict
from idfy.train.config import TrainConfig
from idfy.train.engine import train
from idfy.train.events import Checkpoint, Done, Event, Failed, Start, Step
from idfy.train.setup import make_data

__all__ = [
    "MAX_ENTRANTS",
    "MIN_ENTRANTS",
    "SPEED_LABEL",
    "SPEED_NOTE",
    "Entrant",
    "Lap",
    "RaceDone",
    "RaceStart",
    "Standing",
    "Stopwatch",
    "format_speed",
    "load_data",
    "race",
    "unique_names",
]

MIN_ENTRANTS, MAX_ENTRANTS = 2, 4
#: The name of a run's speed (:attr:`Standing.images_per_s`, :attr:`Lap.images_per_s`) wherever a race shows it.
SPEED_LABEL = "training images/s"
#: What that speed is, in one line (the CLI prints it under the table; the app shows it on the status line).
SPEED_NOTE = (
    f"{SPEED_LABEL}: every image a design trained on over the seconds its training steps took on its own clock "
    "(evaluations, samples and checkpoints not counted)"
)


@dataclass(frozen=True)
class Entrant:
    """A design in the race and the name it runs under (unique within the race)."""

    name: str
    config: ModelConfig


@dataclass
class RaceStart:
    """The race is set up: names in order (the first is the reference for every Δ), the shared settings, the
    data sizes and the held-out set's chance level."""

    names: list[str]
    train_config: TrainConfig
    n_train: int
    n_test: int
    classes: list[str]
    chance: Chance


@dataclass
class Lap:
    """One training event of run ``index`` (its position in :attr:`RaceStart.names`).

    ``images_per_s``: the run's speed so far, after this event — the same number as its
    :attr:`Standing.images_per_s` (:data:`SPEED_NOTE`); None before its first :class:`~idfy.train.events.Step`.
    """

    index: int
    name: str
    event: Event
    images_per_s: float | None = None


@dataclass
class Standing:
    """Where one run ended: ``state`` is ``done``, ``stopped`` or ``failed``; fractions in [0, 1].

    ``images_per_s``: every image the run trained on over the seconds its training steps took on its own
    stopwatch (:data:`SPEED_NOTE`); None before its first :class:`~idfy.train.events.Step`. The live laps carry
    the same number (:attr:`Lap.images_per_s`).

    Checkpoints (paths; None when not written): ``checkpoint`` is the run's final one
    (:attr:`~idfy.train.events.Done.checkpoint`), the weights of ``step`` that ``metrics`` measured, set when the
    run ends; ``best_checkpoint`` / ``best_step``: ``best.pt``, the best on the held-out subset during the run;
    ``last_checkpoint`` / ``last_step``: the newest ``last.pt`` written (a failed run's latest state).
    """

    name: str
    state: str = "running"
    step: int = 0
    elapsed: float = 0.0
    num_params: int = 0
    images_per_s: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    checkpoint: str | None = None
    best_checkpoint: str | None = None
    best_step: int | None = None
    last_checkpoint: str | None = None
    last_step: int | None = None
    message: str = ""
    verdict: Verdict | None = None

    @property
    def score(self) -> float | None:
        """Localization accuracy (or class accuracy without boxes), None without a final evaluation."""
        for key in ("loc_accuracy", "accuracy"):
            if key in self.metrics:
                return float(self.metrics[key])
        return None


@dataclass
class RaceDone:
    """Every run ended; ``standings`` in race order (see :meth:`table`)."""

    standings: list[Standing]
    chance: Chance
    reason: str = "done"  # or "stopped"

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """(headers, rows) of the final table: accuracy, IoU, localization accuracy, speed (:data:`SPEED_LABEL`,
        :func:`format_speed`) and Δ of the headline metric against the first run (percentage points), plus the
        chance level as the last row."""
        headers = ["design", "steps", SPEED_LABEL, "accuracy", "IoU", "loc. acc.", "Δ vs first", "vs chance"]
        first = self.standings[0].score if self.standings else None
        rows: list[list[Any]] = []
        for i, s in enumerate(self.standings):
            m = s.metrics
            delta = "reference" if i == 0 else _delta(s.score, first)
            rows.append(
                [
                    s.name if s.state != "failed" else f"{s.name} (failed)",
                    s.step,
                    format_speed(s.images_per_s),
                    _pct(m.get("accuracy")),
                    "—" if m.get("mean_iou") is None else f"{float(m['mean_iou']):.3f}",
                    _pct(m.get("loc_accuracy")),
                    delta,
                    "—"
                    if s.verdict is None
                    else (f"+{100 * s.verdict.margin:.1f} pt" if s.verdict.beat else "no"),
                ]
            )
        c = self.chance
        rows.append(
            ["chance (constant answer)", "", "", _pct(c.accuracy),
             "—" if c.mean_iou is None else f"{c.mean_iou:.3f}", _pct(c.loc_accuracy), "", ""]
        )  # fmt: skip
        return headers, rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``race.json``); each run's ``checkpoint`` holds the weights its ``metrics`` measured
        (see :class:`Standing`)."""
        return {
            "reason": self.reason,
            "chance": self.chance.to_dict(),
            "runs": [
                {
                    "name": s.name,
                    "state": s.state,
                    "step": s.step,
                    "elapsed_s": s.elapsed,
                    "num_params": s.num_params,
                    "images_per_s": s.images_per_s,
                    "metrics": {k: v for k, v in s.metrics.items() if k != "per_class"},
                    "checkpoint": s.checkpoint,
                    "best_checkpoint": s.best_checkpoint,
                    "best_step": s.best_step,
                    "last_checkpoint": s.last_checkpoint,
                    "message": s.message,
                    "beat_chance": None if s.verdict is None else s.verdict.beat,
                    "verdict": None if s.verdict is None else s.verdict.text,
                }
                for s in self.standings
            ],
        }


def format_speed(images_per_s: float | None) -> str:
    """A run's speed as every race view prints it: whole images per second with thousands separators
    (``1,234``); ``—`` for None."""
    return "—" if images_per_s is None else f"{images_per_s:,.0f}"


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * float(v):.1f} %"


def _delta(score: float | None, first: float | None) -> str:
    if score is None or first is None:
        return "—"
    return f"{100 * (score - first):+.1f} pt"


class Stopwatch:
    """A clock that runs only between :meth:`resume` and :meth:`pause` (seconds of ``base``)."""

    def __init__(self, base: Callable[[], float] = time.perf_counter) -> None:
        self.base = base
        self.total = 0.0
        self._since: float | None = None

    def __call__(self) -> float:
        running = self.base() - self._since if self._since is not None else 0.0
        return self.total + running

    def resume(self) -> None:
        if self._since is None:
            self._since = self.base()

    def pause(self) -> None:
        if self._since is not None:
            self.total += self.base() - self._since
            self._since = None


def unique_names(names: list[str]) -> list[str]:
    """Names made unique in order: a repeated ``tiny`` becomes ``tiny #2``."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out


def load_data(tc: TrainConfig) -> tuple[Any, Any]:
    """``(train_set, test_set)`` exactly as :func:`idfy.train.train` builds them for ``tc``."""
    return make_data(tc)


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name)[:40] or "design"


def race(
    entrants: list[Entrant],
    tc: TrainConfig,
    *,
    out_dir: str | Path | None = None,
    stop: threading.Event | None = None,
    data: tuple[Any, Any] | None = None,
    base_clock: Callable[[], float] = time.perf_counter,
) -> Iterator[RaceStart | Lap | RaceDone]:
    """Train every entrant with the same ``tc`` on the same data, in turns, each within its own time budget.

    Args:
        entrants: 2–4 designs; the first is the reference for the Δ column.
        tc: the shared settings (data, size, seed, budget, ...); ``time_budget_s`` counts each run's own compute.
        out_dir: a folder for the runs (``1-<name>/``, ``2-<name>/``, ...), each a normal run folder; None
            writes nothing.
        stop: set it (from another thread) to end every run cleanly; each keeps its checkpoints.
        data: ``(train_set, test_set)`` instead of :func:`load_data`.
        base_clock: the clock the runs' stopwatches read (tests pass a fake one).

    Yields:
        :class:`RaceStart`, :class:`Lap` per training event, :class:`RaceDone`.

    Raises:
        ValueError: fewer than 2 or more than 4 entrants, names that are not unique, or invalid settings
            (raised before any work); data errors (e.g. missing Fashion-MNIST files) as raised by the loader.
    """
    _check_entrants(entrants)
    tc.validate()
    train_set, test_set = data if data is not None else load_data(tc)
    chance = chance_level(test_set)
    yield RaceStart(
        names=[e.name for e in entrants],
        train_config=tc,
        n_train=len(train_set),
        n_test=len(test_set),
        classes=list(train_set.classes),
        chance=chance,
    )
    root = Path(out_dir) if out_dir is not None else None
    watches = [Stopwatch(base_clock) for _ in entrants]
    standings = [Standing(name=e.name) for e in entrants]
    runs = [
        train(
            e.config,
            tc,
            out_dir=root / f"{i + 1}-{_slug(e.name)}" if root is not None else None,
            stop=stop,
            data=(train_set, test_set),
            clock=watches[i],
        )
        for i, e in enumerate(entrants)
    ]
    try:
        yield from _take_turns(runs, watches, standings, chance)
    finally:
        for r in runs:
            r.close()
    stopped = stop is not None and stop.is_set()
    yield RaceDone(standings=standings, chance=chance, reason="stopped" if stopped else "done")


def _check_entrants(entrants: list[Entrant]) -> None:
    """Raises ValueError: fewer than 2 or more than 4 entrants, or names that are not unique."""
    if not MIN_ENTRANTS <= len(entrants) <= MAX_ENTRANTS:
        raise ValueError(f"a race needs {MIN_ENTRANTS} to {MAX_ENTRANTS} designs (got {len(entrants)})")
    names = [e.name for e in entrants]
    if len(set(names)) != len(names):
        raise ValueError("every design in a race needs its own name (see idfy.train.race.unique_names)")


def _take_turns(
    runs: list[Iterator[Event]], watches: list[Stopwatch], standings: list[Standing], chance: Chance
) -> Iterator[Lap]:
    """Drive the runs one event at a time, always the one with the least time used, until all have ended."""
    speeds = [_Speed() for _ in runs]
    live = list(range(len(runs)))
    while live:
        i = min(live, key=lambda k: (watches[k](), k))  # the run with the least time used goes next
        watches[i].resume()
        try:
            ev: Event | None = next(runs[i])
        except StopIteration:
            ev = None
        finally:
            watches[i].pause()
        if ev is None:  # ended without Done / Failed: should not happen, but never loop forever
            standings[i].state = "failed"
            standings[i].message = standings[i].message or "the run ended without a result"
            live.remove(i)
            continue
        _record(standings[i], speeds[i], ev, chance)
        yield Lap(index=i, name=standings[i].name, event=ev, images_per_s=standings[i].images_per_s)
        if isinstance(ev, (Done, Failed)):
            runs[i].close()
            live.remove(i)


@dataclass
class _Speed:
    """A run's training throughput so far: its batch size, the images trained and the seconds they took."""

    batch_size: int = 0
    images: float = 0.0
    seconds: float = 0.0


def _record(s: Standing, speed: _Speed, ev: Event, chance: Chance) -> None:
    """Update run ``s`` (and its throughput ``speed``) with one of its events."""
    if isinstance(ev, Start):
        s.num_params = ev.num_params
        speed.batch_size = ev.train_config.batch_size
    elif isinstance(ev, Step):
        images = (ev.step - s.step) * speed.batch_size  # the images of this window (windows differ in steps)
        s.step, s.elapsed = ev.step, ev.elapsed
        if ev.images_per_s > 0 and images > 0:
            speed.images += images
            speed.seconds += images / ev.images_per_s
            s.images_per_s = speed.images / speed.seconds  # all images over all training seconds
    elif isinstance(ev, Checkpoint):
        if ev.kind == "best":
            s.best_checkpoint, s.best_step = ev.path, ev.step
        else:
            s.last_checkpoint, s.last_step = ev.path, ev.step
    elif isinstance(ev, Done):
        s.state = "stopped" if ev.reason == "stopped" else "done"
        s.step, s.elapsed, s.metrics = ev.step, ev.elapsed, dict(ev.metrics)
        s.checkpoint = ev.checkpoint  # the final weights, which ``metrics`` measured
        s.verdict = verdict(ev.metrics, chance)
    elif isinstance(ev, Failed):
        s.state, s.message = "failed", ev.message
        s.step = ev.step or s.step
