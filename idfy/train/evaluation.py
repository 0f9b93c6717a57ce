"""Held-out evaluation during and after a run, the schedule of evaluation points, sample predictions and the
checkpoints (``best.pt`` after a better evaluation, ``last.pt``) of a training run.

:class:`Evaluation` is one part of :class:`idfy.train.engine._Run`. During the run the metrics
(:func:`idfy.train.metrics.evaluate`) are taken on a fixed subset of the held-out split (``eval_subset``),
at the end on all of it; "best" compares (loc-acc or accuracy, mean IoU).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from idfy.train.checkpoint import capture_rng, save_checkpoint
from idfy.train.events import Checkpoint, Eval, Event, Samples
from idfy.train.metrics import evaluate, predict_batches
from idfy.train.optim import progress
from idfy.train.state import RunState

__all__ = ["Evaluation"]


class Evaluation(RunState):
    """Evaluations, samples and checkpoints of a run."""

    def _point_due(self, log: bool) -> bool:
        """True once per passed fraction of :func:`eval_fractions`; several processes look only at log steps
        (the clock differs between them, the steps do not)."""
        if self.next_point >= len(self.points) or (self.dist.enabled and not log):
            return False
        done = progress(self.step, self.total_steps, self._elapsed(), self.tc.time_budget_s)
        passed = sum(f <= done for f in self.points)
        if passed <= self.next_point:
            return False
        self.next_point = passed
        return True

    def _evaluate(self, subset: bool = False) -> Iterator[Event]:
        """Held-out metrics: on the fixed subset ``eval_set`` during the run, on the full split at the end."""
        metrics = evaluate(
            self.module,
            self.eval_set if subset else self.test_set,
            self.task,
            channels=self.feed_channels,
            size=self.size,
            amp=self.amp,
        )
        self.last_metrics = metrics
        key = "loc_accuracy" if "loc_accuracy" in metrics else "accuracy"
        score = (float(metrics[key]), float(metrics.get("mean_iou", 0.0)))
        is_best = self.best_score is None or score > self.best_score
        if is_best:
            self.best_score = score
        ev = Eval(step=self.step, metrics=metrics, elapsed=self._elapsed(), is_best=is_best)
        if self.runlog is not None:
            self.runlog.add(ev)
        yield ev
        if is_best and self.out is not None and self.step > 0:  # untrained weights are never "best"
            yield self._save("best")

    @torch.no_grad()
    def _samples(self) -> Samples:
        assert self.sample_batch is not None
        x, y, boxes = self.sample_batch
        was = self.module.training
        self.module.eval()
        try:
            pb, pl, ps = predict_batches(self.module, x, self.task, amp=self.amp)
        finally:
            self.module.train(was)
        ev = Samples(
            step=self.step,
            images=x.detach().cpu(),
            pred_boxes=pb.cpu() if pb is not None else None,
            pred_labels=pl.tolist(),
            pred_scores=ps.tolist(),
            true_boxes=boxes.cpu() if boxes is not None else None,
            true_labels=y.tolist(),
            classes=self.classes,
        )
        self.last_samples = ev
        return ev

    def _state(self, full: bool) -> dict[str, Any]:
        """Checkpoint contents; ``full`` adds what resuming needs (optimizer, schedule, RNG states)."""
        # the data generator's state at the start of the current epoch: resuming replays the epoch's draws
        data_state = self.gen.get_state() if self.batch_in_epoch == 0 else self.epoch_gen_state
        schedule = {
            "kind": self.tc.schedule,
            "lr": self.lr,
            "total_steps": self.total_steps,
            "elapsed_s": self._elapsed(),
            "warmup": self.tc.warmup,
        }
        return {
            "model_config": self.model_cfg.to_yaml(),
            "train_config": self.tc.to_dict(),
            "model": self.module.state_dict(),
            "optimizer": self.opt.state_dict() if full else None,
            "schedule": schedule if full else None,
            "rng": capture_rng(data_state.cpu()) if full else None,
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "steps_per_epoch": self.spe,
            "batch_size": self.tc.batch_size,
            "train_images": len(self.train_set),
            "elapsed_s": self._elapsed(),
            "best_score": list(self.best_score) if self.best_score is not None else None,
            "best_step": self.best_step,
            "metrics": self.last_metrics,
            "classes": self.classes,
            "task": self.task,
            "data": self.tc.data,
            "data_channels": self.feed_channels,
        }

    def _save(self, kind: str) -> Checkpoint:
        assert self.out is not None
        if kind == "best":
            self.best_step = self.step
        path = save_checkpoint(self.out / f"{kind}.pt", self._state(full=kind == "last"))
        if kind == "best":
            self.best_path = path
        else:
            self.last_good = (self.step, path)
        return Checkpoint(step=self.step, path=str(path), kind=kind)
