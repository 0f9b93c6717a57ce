"""Terminal display of a training run's events: a tqdm bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from idfy.train.chance import Chance, few_steps_hint, verdict
from idfy.train.events import Checkpoint, Done, Eval, Event, Failed, Samples, Start, Step

__all__ = ["ConsoleProgress", "format_metrics"]


def format_metrics(m: dict[str, Any]) -> str:
    """``acc 81.2% · IoU 0.634 · loc-acc 70.1%`` from an :func:`idfy.train.metrics.evaluate` dict."""
    parts = [f"acc {100 * m['accuracy']:.1f}%"] if "accuracy" in m else []
    if "mean_iou" in m:
        parts.append(f"IoU {m['mean_iou']:.3f}")
    if "loc_accuracy" in m:
        parts.append(f"loc-acc {100 * m['loc_accuracy']:.1f}%")
    return " · ".join(parts)


class ConsoleProgress:
    """Feed it every event (``progress(event)``). On a terminal (and with tqdm installed) a bar over the steps
    (or the seconds of a time budget) shows loss, lr and speed; elsewhere each event is one line."""

    def __init__(self, stream: TextIO | None = None, bar: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.use_bar = self.stream.isatty() if bar is None else bar
        self.bar: Any = None
        self.by_time = False
        self.last_eval_short = ""
        self.chance: Chance | None = None
        self.speed: float | None = None

    def __call__(self, ev: Event) -> None:
        if isinstance(ev, Start):
            self._start(ev)
        elif isinstance(ev, Step):
            self._step(ev)
        elif isinstance(ev, Eval):
            m = ev.metrics
            key = "loc_accuracy" if "loc_accuracy" in m else "accuracy"
            self.last_eval_short = f"{'loc-acc' if key == 'loc_accuracy' else 'acc'} {100 * m[key]:.1f}%"
            self._line(f"eval  step {ev.step:>6} | {format_metrics(m)}{'  (best)' if ev.is_best else ''}")
        elif isinstance(ev, Checkpoint):
            if not self.use_bar:
                self._line(f"saved {ev.kind}.pt at step {ev.step}: {ev.path}")
        elif isinstance(ev, Samples):
            pass
        elif isinstance(ev, Done):
            self._close()
            self._line(
                f"done: {ev.reason} after {ev.step} steps in {ev.elapsed:.1f} s | {format_metrics(ev.metrics)}"
                + (f" | checkpoint (step {ev.step}): {ev.checkpoint}" if ev.checkpoint else "")
            )
            if (line := self.best_line(ev)) is not None:
                self._line(line)
            if (line := self.verdict_line(ev)) is not None:
                self._line(line)
        elif isinstance(ev, Failed):
            self._close()
            self._line(f"failed at step {ev.step}: {ev.message}")

    @staticmethod
    def best_line(ev: Done) -> str | None:
        """``also kept: the best on the held-out subset, step N (not the weights measured above): PATH`` when
        ``best.pt`` holds other weights than the final checkpoint (whose metrics the done line shows); None
        otherwise."""
        if ev.best_checkpoint is None or ev.best_step == ev.step:
            return None
        at = f", step {ev.best_step}" if ev.best_step is not None else ""
        return (
            f"also kept: the best on the held-out subset{at} (not the weights measured above): "
            f"{ev.best_checkpoint}"
        )

    def verdict_line(self, ev: Done) -> str | None:
        """``verdict: beat chance by …`` (or why not, with the too-few-steps hint) for the run's final metrics."""
        v = verdict(ev.metrics, self.chance) if self.chance is not None else None
        if v is None:
            return None
        hint = "" if v.beat else few_steps_hint(ev.step, self.speed)
        return f"verdict: {v.text}{hint}"

    def _start(self, ev: Start) -> None:
        self.chance = ev.chance
        cfg, tc = ev.model_config, ev.train_config
        self._line(
            f"training {cfg.name} ({ev.num_params:,} params) on {tc.data}: {ev.n_train} train / {ev.n_test} test, "
            f"{len(ev.classes)} classes, {ev.task}, {cfg.input.channels}×{cfg.input.size[0]}×{cfg.input.size[1]}, "
            f"device {ev.device}" + (f" ×{ev.world_size} processes" if ev.world_size > 1 else "")
        )
        for note in ev.notes:
            self._line(f"note: {note}")
        if ev.resumed_step:
            self._line(f"resumed at step {ev.resumed_step}")
        if not self.use_bar:
            return
        try:
            from tqdm import tqdm  # optional (not a dependency of idfy): the plain log lines serve without it
        except ImportError:
            self.use_bar = False
            return
        if ev.total_steps is not None:
            total, unit = ev.total_steps, "step"
        else:
            total, unit, self.by_time = tc.time_budget_s, "s", True
        self.bar = tqdm(total=total, initial=0 if self.by_time else ev.resumed_step, unit=unit, file=self.stream,
                        dynamic_ncols=True, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} {unit} [{elapsed}<{remaining}{postfix}]")  # fmt: skip

    def _step(self, ev: Step) -> None:
        self.speed = ev.images_per_s
        if self.bar is not None:
            self.bar.n = min(ev.elapsed, self.bar.total) if self.by_time else ev.step
            short = f"step {ev.step} loss {ev.loss:.3f} lr {ev.lr:.1e} {ev.images_per_s:,.0f} img/s"
            self.bar.set_postfix_str(short + (f" | {self.last_eval_short}" if self.last_eval_short else ""))
            return
        self._line(
            f"step {ev.step:>6} | epoch {ev.epoch:6.2f} | loss {ev.loss:.3f} (l1 {ev.box_l1:.3f} "
            f"giou {ev.giou:.3f} cls {ev.cls:.3f}) | lr {ev.lr:.2e} | {ev.images_per_s:,.0f} img/s | "
            f"{ev.elapsed:7.1f} s"
        )

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
