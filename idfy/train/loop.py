"""The step loop of a training run: batches, optimizer steps, the host syncs, progress events and the end.

:class:`Loop` is one part of :class:`idfy.train.engine._Run`. Losses are summed on the device and read back
only at sync points (every ``log_every`` steps and when an evaluation, samples or a checkpoint is due), the
only host syncs; under torchrun the processes agree on stop and budget there.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from idfy.data import iterate_batches
from idfy.train.config import eval_fractions
from idfy.train.distributed import all_reduce_max, all_reduce_sum, shard
from idfy.train.evaluation import Evaluation
from idfy.train.events import Done, Event, Failed, Step
from idfy.train.losses import compute_loss
from idfy.train.optim import lr_factor, progress
from idfy.train.state import NO_BAD_STEP

__all__ = ["Loop"]


class Loop(Evaluation):
    """From the first step to the final :class:`~idfy.train.events.Done`."""

    def _loop(self) -> Iterator[Event]:
        tc = self.tc
        self.net.train()
        self.acc = torch.zeros(5, device=self.device)  # loss sums: total, box_l1, giou, cls; step count
        self.first_bad = torch.full((), NO_BAD_STEP, dtype=torch.int64, device=self.device)
        self.bad_value = torch.zeros((), device=self.device)
        self.t_start = self.t_run
        self._open_window()
        self.points = eval_fractions(tc.eval_points) if tc.time_budget_s is not None else []
        done = progress(self.step, self.total_steps, self._elapsed(), tc.time_budget_s)
        self.next_point = sum(f <= done for f in self.points)  # a resumed run skips the points it passed
        k = min(tc.eval_subset, len(self.test_set)) if tc.eval_subset else len(self.test_set)
        self.eval_set = (
            self.test_set.subset(torch.arange(k, device=self.device))
            if k < len(self.test_set)
            else self.test_set
        )
        self.epoch_gen_state = self.gen.get_state()
        self.reason = self._limit_reached()  # a resumed run may already be at its end
        while self.reason is None:
            skip, self.batch_in_epoch = self.batch_in_epoch, 0
            self.epoch_gen_state = self.gen.get_state()
            batches = iterate_batches(
                self.train_set,
                tc.batch_size,
                shuffle=True,
                generator=self.gen,
                drop_last=True,
                augment=tc.augment,
                channels=self.feed_channels,
                size=self.size,
                translate=tc.translate,
                erase=tc.erase,
            )
            for i, batch in enumerate(batches):
                if i < skip:  # resuming mid-epoch: replay the epoch's draws up to where it stopped
                    continue
                self._train_step(*batch)
                self.batch_in_epoch = i + 1
                if self.batch_in_epoch == self.spe:
                    self.epoch += 1
                    self.batch_in_epoch = 0
                self.reason = self._limit_reached()
                failed = yield from self._periodic()
                if failed:
                    return
                if self.reason is not None:
                    break
        yield from self._finish()

    def _train_step(self, x: Tensor, y: Tensor, boxes: Tensor | None) -> None:
        tc = self.tc
        x, y, boxes = shard(x, self.dist), shard(y, self.dist), shard(boxes, self.dist)
        frac = progress(self.step, self.total_steps, self._elapsed(), tc.time_budget_s)
        if self.low_size is not None and frac < tc.low_res_until:  # progressive resizing: cheaper early steps
            x = F.interpolate(x, size=self.low_size, mode="bilinear", antialias=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        self.lr = tc.lr * lr_factor(tc.schedule, self.step, frac, tc.warmup)
        for g in self.opt.param_groups:
            g["lr"] = self.lr
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if self.amp else contextlib.nullcontext()
        with ctx:
            out = self.net(x)
        parts = compute_loss(out.float(), y, boxes, self.task, self.weights)
        self.opt.zero_grad(set_to_none=True)
        parts.total.backward()
        if tc.grad_clip is not None:
            nn.utils.clip_grad_norm_(self.params, tc.grad_clip)
        self.opt.step()
        total = parts.total.detach()
        self.acc += torch.cat([parts.stacked(), total.new_ones(1)])
        new_bad = ~torch.isfinite(total) & (self.first_bad == NO_BAD_STEP)
        self.first_bad = torch.where(new_bad, self.step + 1, self.first_bad)
        self.bad_value = torch.where(new_bad, total, self.bad_value)
        self.step += 1

    def _limit_reached(self) -> str | None:
        """Step-determined limits always; the stop event and the clock directly only in a single process
        (several processes agree on those at the next sync point, see :meth:`_sync`)."""
        tc = self.tc
        if not self.dist.enabled and self.stop is not None and self.stop.is_set():
            return "stopped"
        if tc.max_steps is not None and self.step >= tc.max_steps:
            return "max_steps"
        if tc.epochs is not None and self.epoch >= tc.epochs:
            return "epochs"
        if not self.dist.enabled and tc.time_budget_s is not None and self._elapsed() >= tc.time_budget_s:
            return "budget"
        return None

    def _due(self, every: int) -> bool:
        return every > 0 and self.step % every == 0

    def _periodic(self) -> Iterator[Event]:
        """Events due after this step. Returns True (via StopIteration) when the run failed."""
        tc = self.tc
        final = self.reason is not None
        log = self._due(tc.log_every) or final
        do_eval = (self._due(tc.eval_every) or self._point_due(log)) and not final
        do_samples = self._due(tc.sample_every) and not final
        do_ckpt = self._due(tc.checkpoint_every) and not final and self.out is not None
        if not (log or do_eval or do_samples or do_ckpt):
            return False
        stats, bad_step, flags = self._sync()
        if bad_step != NO_BAD_STEP:
            yield self._nan_failure(bad_step)
            return True
        if self.dist.enabled and self.reason is None:
            if flags[0]:
                self.reason = "stopped"
            elif flags[1]:
                self.reason = "budget"
        if log and stats[4] > 0:
            yield self._step_event(stats)
        if not self.dist.is_main:
            return False
        t0 = self.clock()
        if do_eval:
            yield from self._evaluate(subset=True)
        if do_samples:
            yield self._samples()
        if do_ckpt:
            yield self._save("last")
        self.paused += self.clock() - t0
        return False

    def _sync(self) -> tuple[list[float], int, list[int]]:
        """The host sync: loss sums since the last event, the first non-finite step, stop/budget flags
        (reduced over processes when distributed)."""
        stats = all_reduce_sum(self.acc.clone(), self.dist)
        bad = self.first_bad.clone()
        flags = [0, 0]
        if self.dist.enabled:
            bad = -all_reduce_max(-bad, self.dist)
            local = [
                int(self.stop is not None and self.stop.is_set()),
                int(self.tc.time_budget_s is not None and self._elapsed() >= self.tc.time_budget_s),
            ]
            flags = all_reduce_max(torch.tensor(local, device=self.device), self.dist).tolist()
        values = stats.tolist()
        return values, int(bad), flags

    def _nan_failure(self, bad_step: int) -> Failed:
        kind = "NaN" if math.isnan(float(self.bad_value)) else "infinite"
        clip = (
            f"lower the gradient clipping (now {self.tc.grad_clip:g})"
            if self.tc.grad_clip is not None
            else "enable grad clipping (--grad-clip 1.0)"
        )
        return Failed(
            message=f"loss became {kind} at step {bad_step}; lower the lr (now {self.tc.lr:g}) or {clip}",
            step=bad_step,
        )

    def _open_window(self) -> None:
        self.win_t0 = self.clock()
        self.paused = 0.0
        self.acc.zero_()

    def _step_event(self, stats: list[float]) -> Step:
        n = stats[4]
        ranks = self.dist.world_size
        now = self.clock()
        busy = max(now - self.win_t0 - self.paused, 1e-9)
        per_rank_steps = n / ranks
        ev = Step(
            step=self.step,
            epoch=self.epoch + self.batch_in_epoch / max(self.spe, 1),
            loss=stats[0] / n,
            box_l1=stats[1] / n,
            giou=stats[2] / n,
            cls=stats[3] / n,
            lr=self.lr,
            images_per_s=per_rank_steps * self.tc.batch_size / busy,
            elapsed=self._elapsed(),
        )
        self._open_window()
        if self.runlog is not None:
            self.runlog.add(ev)
        return ev

    def _finish(self) -> Iterator[Event]:
        reason = self.reason or "max_steps"
        if not self.dist.is_main:
            yield Done(
                step=self.step,
                reason=reason,
                metrics={},
                elapsed=self._elapsed(),
                model=self.module,
                classes=self.classes,
            )
            return
        yield from self._evaluate()
        if self.sample_batch is not None:
            yield self._samples()
        final: str | None = None  # the file handed on: the weights the final metrics measured (last.pt)
        if self.out is not None:
            saved = self._save("last")
            final = saved.path
            yield saved
            if self.runlog is not None:
                self.runlog.write_plots(self.last_samples)
        self.module.eval()
        yield Done(
            step=self.step,
            reason=reason,
            metrics=self.last_metrics,
            elapsed=self._elapsed(),
            out_dir=str(self.out) if self.out is not None else None,
            checkpoint=final,
            model=self.module,
            classes=self.classes,
            best_checkpoint=str(self.best_path) if self.best_path is not None else None,
            best_step=self.best_step if self.best_path is not None else None,
        )
