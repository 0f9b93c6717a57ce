"""Ablations: vary one design option at a time over several seeds, with a cache and a significance test.

``--vary KEY=V1,V2,...`` takes any dotted config key (``block.order``, ``input.scale``, ``stages.*.down``,
``inject.mode``) or one of the claim shortcuts in :data:`MACROS` (``injection``, ``gaussian``, ``dense``,
``convs``) that set several keys at once. Every variant is trained with the same recipe for each seed;
finished runs are cached on disk by a hash of (design, recipe, seed), so re-running an ablation only trains
what is missing. The result table holds mean ± std of the target metric, the difference to the base design,
and Welch's t-test p-value (``scipy.stats.ttest_ind(equal_var=False)``) — "significant" means p < 0.05.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from idfy._dataclass_io import short_repr
from idfy.analysis import analyze
from idfy.config import ConfigError, ModelConfig
from idfy.config_io import load_yaml
from idfy.data import make_dataset
from idfy.presets import list_presets, preset_config
from idfy.substreams import dense_kind_names
from idfy.train.config import TrainConfig
from idfy.train.engine import train
from idfy.train.events import Done, Failed, Start

__all__ = [
    "MACROS",
    "AblationResult",
    "RunFinished",
    "RunStarted",
    "Variant",
    "VariantRow",
    "apply_variant",
    "parse_vary",
    "run_ablation",
    "variants_for",
]


def _injection(cfg: ModelConfig, value: str) -> ModelConfig:
    where = {
        "none": (False, False, False),
        "stem": (True, False, False),
        "stages": (False, True, False),
        "head": (False, False, True),
        "all": (True, True, True),
    }
    if value not in where:
        raise ConfigError(f"injection={value!r}: use one of {', '.join(where)}")
    stem, stages, head = where[value]
    out = cfg.set("inject.head", head).set("stages.*.inject", stages)
    return out.set("inject.stem", stem) if cfg.stem is not None else out


def _gaussian(cfg: ModelConfig, value: str) -> ModelConfig:
    if value not in ("on", "off"):
        raise ConfigError(f"gaussian={value!r}: use on or off")
    return cfg.set("stages.*.gaussian.enabled", value == "on")


def _dense(cfg: ModelConfig, value: str) -> ModelConfig:
    names = dense_kind_names()  # every registered dense sub-stream kind
    if value not in names:
        raise ConfigError(f"dense={short_repr(value)}: use {', '.join(names)}")
    if value == "none":
        return cfg.set("stages.*.dense.kind", "none")
    return cfg.set("stages.*.dense.kind", "none").set(f"stages.{len(cfg.stages) - 1}.dense.kind", value)


def _convs(cfg: ModelConfig, value: str) -> ModelConfig:
    if value == "mix":
        return cfg
    if value != "regular":
        raise ConfigError(f"convs={value!r}: use regular (every 3×3 conv dense) or mix (the base design's)")
    out = cfg.set("stages.*.conv", {"kind": "regular"})
    return out.set("stem.conv", {"kind": "regular"}) if cfg.stem is not None else out


def _design(cfg: ModelConfig, value: str) -> ModelConfig:
    # Preset names only: this value may come from the browser, so it never names a file.
    if value not in list_presets():
        raise ConfigError(f"design={short_repr(value)}: use a preset name ({', '.join(list_presets())})")
    return preset_config(value)


#: Claim shortcuts: name -> (function(cfg, value) -> cfg, help).
MACROS: dict[str, tuple[Callable[[ModelConfig, str], ModelConfig], str]] = {
    "injection": (_injection, "S1: where the image is re-injected: none, stem, stages, head, all"),
    "gaussian": (_gaussian, "S2a: Gaussian sub-stream in every stage: on, off"),
    "dense": (
        _dense,
        "S2b/S4: dense sub-stream at the last stage: none or a registered kind (gc, fc, nonlocal, ...)",
    ),
    "convs": (_convs, "S7: 3×3 convs all regular, or the base design's mix"),
    "design": (_design, "a whole preset instead of the base (compare a tuned design with its origin)"),
}


@dataclass(frozen=True)
class Variant:
    """One point of an ablation: ``key=value`` applied to the base design."""

    key: str
    value: Any
    config: ModelConfig

    @property
    def label(self) -> str:
        return f"{self.key}={self.value}"


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """``"block.order=original,preact"`` -> ("block.order", ["original", "preact"]); values parsed as YAML scalars."""
    if "=" not in spec:
        raise ConfigError(f"--vary {spec!r}: write KEY=V1,V2,... (e.g. input.scale=1,10,255)")
    key, _, values = spec.partition("=")
    parts = [v.strip() for v in values.split(",") if v.strip()]
    if not key.strip() or not parts:
        raise ConfigError(f"--vary {spec!r}: needs a key and at least one value")
    return key.strip(), [load_yaml(v) if key.strip() not in MACROS else v for v in parts]


def apply_variant(base: ModelConfig, key: str, value: Any) -> ModelConfig:
    """The base design with ``key`` set to ``value`` (a dotted key or a :data:`MACROS` shortcut)."""
    if key in MACROS:
        return MACROS[key][0](base, str(value))
    return base.set(key, value)


def variants_for(base: ModelConfig, vary: list[str]) -> list[Variant]:
    """The base plus one variant per value of every ``--vary`` (one factor at a time); duplicates removed."""
    out = [Variant("base", base.name, base)]
    seen = {base.fingerprint()}
    for spec in vary:
        key, values = parse_vary(spec)
        for v in values:
            cfg = apply_variant(base, key, v)
            fp = cfg.fingerprint()
            if fp in seen:
                continue
            seen.add(fp)
            out.append(Variant(key, v, cfg))
    return out


@dataclass
class RunStarted:
    """A (variant, seed) run begins; ``index`` of ``total``."""

    variant: str
    seed: int
    index: int
    total: int
    cached: bool


@dataclass
class RunFinished:
    """A (variant, seed) run ended with ``metrics`` (from the cache when ``cached``)."""

    variant: str
    seed: int
    index: int
    total: int
    metrics: dict[str, Any]
    cached: bool
    seconds: float


@dataclass
class VariantRow:
    """Summary of one variant over seeds."""

    variant: str
    key: str
    value: Any
    params: int
    macs: int
    values: list[float]
    mean: float
    std: float
    delta: float
    p_value: float | None
    significant: bool


@dataclass
class AblationResult:
    """The whole ablation: rows (base first), the metric, the recipe and where it ran."""

    base: str
    metric: str
    seeds: list[int]
    rows: list[VariantRow]
    recipe: dict[str, Any]
    device: str = "cpu"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "metric": self.metric,
            "seeds": self.seeds,
            "recipe": self.recipe,
            "device": self.device,
            "notes": self.notes,
            "rows": [asdict(r) for r in self.rows],
        }

    def to_markdown(self) -> str:
        lines = [
            f"| variant | params | MACs (design size) | {self.metric} (mean ± std, n={len(self.seeds)}) | Δ vs base | p (Welch) | significant |",
            "|---|---:|---:|---:|---:|---:|:---:|",
        ]
        for r in self.rows:
            p = "—" if r.p_value is None else f"{r.p_value:.3f}"
            sig = "—" if r.p_value is None else ("yes" if r.significant else "no")
            delta = "—" if r.variant == "base" else f"{r.delta * 100:+.1f} pt"
            lines.append(
                f"| {r.variant} | {r.params:,} | {r.macs / 1e6:.1f} M | {r.mean * 100:.1f} ± {r.std * 100:.1f} % "
                f"| {delta} | {p} | {sig} |"
            )
        return "\n".join(lines)


#: Training options added after run caches existed: left out of the cache key while at these defaults, so
#: runs cached before the option existed (which trained exactly so) still count.
_KEY_IF_CHANGED = {"translate": 0.0, "erase": 0.0}


def _run_key(cfg: ModelConfig, recipe: dict[str, Any], seed: int) -> str:
    recipe = {k: v for k, v in recipe.items() if k not in _KEY_IF_CHANGED or v != _KEY_IF_CHANGED[k]}
    blob = json.dumps({"design": cfg.fingerprint(), "recipe": recipe, "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _mean_std(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def _welch(a: list[float], b: list[float]) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    if max(a) == min(a) and max(b) == min(b):
        return 1.0 if a[0] == b[0] else 0.0
    from scipy.stats import ttest_ind  # heavy (all of scipy.stats): imported when a test is due

    return float(ttest_ind(a, b, equal_var=False).pvalue)


def run_ablation(
    base: ModelConfig,
    vary: list[str],
    *,
    seeds: int = 3,
    train_config: TrainConfig,
    cache_dir: str | Path | None = None,
    metric: str | None = None,
    stop: threading.Event | None = None,
) -> Iterator[RunStarted | RunFinished | AblationResult]:
    """Train every variant for every seed (cached), yielding progress, then the :class:`AblationResult`.

    Args:
        base: the design every variant starts from.
        vary: ``KEY=V1,V2`` strings (see :func:`parse_vary`).
        seeds: runs per variant (seeds 0..seeds-1), at least 1 (3 or more for a significance test).
        train_config: an :class:`idfy.train.TrainConfig`; its ``seed`` is replaced per run.
        cache_dir: folder of finished runs (``<hash>.json``); None disables the cache.
        metric: metric to compare; default ``loc_accuracy`` for localization data, else ``accuracy``.
        stop: set to stop after the current run (the result then covers the finished runs).

    Raises:
        ValueError / ConfigError: ``seeds`` below 1 or a ``vary`` entry that is not a valid variant.
    """
    if seeds < 1:
        raise ValueError("seeds must be at least 1")
    variants = variants_for(base, vary)
    tc = train_config
    recipe = {k: v for k, v in asdict(tc).items() if k not in ("seed", "device")}
    cache = Path(cache_dir) if cache_dir else None
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
    train_set = make_dataset(tc.data, split="train", size=tc.size, n=tc.n_train, data_dir=tc.data_dir)
    test_set = make_dataset(tc.data, split="test", size=tc.size, n=tc.n_test, data_dir=tc.data_dir)
    metric = metric or ("loc_accuracy" if test_set.task == "localize" else "accuracy")
    results: dict[str, list[float]] = {v.label: [] for v in variants}
    total = len(variants) * seeds
    runs = [(seed, v) for seed in range(seeds) for v in variants]
    notes: list[str] = []
    device = ["cpu"]
    for index, (seed, v) in enumerate(runs, start=1):
        if stop is not None and stop.is_set():
            notes.append("stopped early: the table covers the finished runs only")
            break
        path = cache / f"{_run_key(v.config, recipe, seed)}.json" if cache else None
        where = (v.label, seed, index, total)
        metrics = yield from _one_run(
            v, tc.replace(seed=seed), (train_set, test_set), path, where, notes, device
        )
        if metrics is not None:
            results[v.label].append(float(metrics[metric]))
    yield AblationResult(
        base=base.name,
        metric=metric,
        seeds=list(range(seeds)),
        rows=_rows(variants, results),
        recipe=recipe,
        device=device[0],
        notes=notes,
    )


def _one_run(
    v: Variant,
    tc: TrainConfig,
    data: tuple[Any, Any],
    path: Path | None,
    where: tuple[str, int, int, int],
    notes: list[str],
    device: list[str],
) -> Iterator[RunStarted | RunFinished]:
    """One (variant, seed) run, from the cache file ``path`` when it holds it; returns its held-out metrics
    (None when it failed: the failure is added to ``notes``). ``device[0]`` becomes the device it trained on."""
    if path is not None and path.is_file():
        rec = json.loads(path.read_text())
        yield RunStarted(*where, cached=True)
        yield RunFinished(*where, rec["metrics"], True, rec["seconds"])
        return rec["metrics"]
    yield RunStarted(*where, cached=False)
    done: Done | None = None
    for ev in train(v.config, tc, data=data):
        if isinstance(ev, Failed):
            notes.append(f"{v.label} seed {tc.seed}: {ev.message}")
        elif isinstance(ev, Done):
            done = ev
        elif isinstance(ev, Start):
            device[0] = ev.device
    if done is None:
        return None
    metrics = {k: val for k, val in done.metrics.items() if k != "per_class"}
    if path is not None:
        tmp = path.with_suffix(".tmp")
        record = {"variant": v.label, "seed": tc.seed, "metrics": metrics, "seconds": done.elapsed}
        tmp.write_text(json.dumps(record))
        tmp.replace(path)
    yield RunFinished(*where, metrics, False, done.elapsed)
    return metrics


def _rows(variants: list[Variant], results: dict[str, list[float]]) -> list[VariantRow]:
    """One table row per variant with results: mean ± std, Δ to the base and Welch's p-value."""
    base_vals = results[variants[0].label]
    base_mean = _mean_std(base_vals)[0] if base_vals else float("nan")
    rows = []
    for v in variants:
        vals = results[v.label]
        if not vals:
            continue
        rep = analyze(v.config)
        mean, sd = _mean_std(vals)
        p = None if v.key == "base" or not base_vals else _welch(vals, base_vals)
        rows.append(
            VariantRow(
                variant=v.label,
                key=v.key,
                value=v.value,
                params=rep.params_total,
                macs=rep.macs,
                values=vals,
                mean=mean,
                std=sd,
                delta=mean - base_mean,
                p_value=p,
                significant=p is not None and p < 0.05,
            )
        )
    return rows
