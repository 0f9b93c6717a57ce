"""The Design tab's shortcuts give the same numbers as the full, cold analysis.

* :class:`idfy.analysis.tracing.MacCounter` replays ops it has already seen on ``meta`` tensors (outputs,
  FLOPs, uncounted op types), and the analysis replays stages it has already traced (same stage config,
  plan and non-stage fields): a warm trace equals a cold one and a real CPU trace, module by module;
* :func:`idfy.analysis.estimate.build_meta` skips weight initialisers: same parameters and buffers;
* the fast path's :func:`~idfy.ui.tabs.design.results.summary_for` is the strip and link of the full
  :func:`~idfy.ui.tabs.design.results.results_for`, also after an invalid edit;
* single flight: two callers of one new design run one analysis, and the diagram drawn ahead of the page's
  request is the one it gets (one graphviz run).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import pytest
from trace_checks import assert_same_module_counts

from idfy import build_model, load_preset
from idfy.analysis import analyze, clear_cache, count, estimate, tracing
from idfy.config import ModelConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _designs() -> list[ModelConfig]:
    """Small designs that exercise every kind of part: injections, Gaussian and dense sub-streams (GCNet,
    FC, non-local), group / dilated / ghost convs, post-activation units, a flatten head."""
    full = load_preset("full").set("input.size", [64, 64])
    return [
        full,
        full.set("stages.2.width", 52),
        full.set("stages.0.inject", not full.stages[0].inject),
        full.set("stages.1.dense.kind", "nonlocal"),
        full.set("stages.2.dense.kind", "gc"),
        full.set("stages.0.gaussian.enabled", False),
        full.set("stages.1.conv", {"kind": "dilated", "dilation": 2}),
        full.set("block.order", "original"),
        load_preset("seed_model2").set("input.size", [64, 64]),
        load_preset("seed_model1"),
        load_preset("tiny"),
    ]


def _stats(trace: tracing.Trace) -> dict[str, Any]:
    return {
        "flops": trace.flops,
        "output": trace.output_shape,
        "by_op": dict(trace.by_op),
        "uncounted": trace.uncounted_ops,
        "modules": {k: dataclasses.asdict(v) for k, v in trace.modules.items()},
    }


def _forget() -> None:
    tracing._REPLAYS.clear()
    tracing._PARTS.clear()


def _cold(cfg: ModelConfig) -> dict[str, Any]:
    _forget()
    return _stats(count(cfg))


def test_warm_trace_equals_cold_trace_and_real_tensors() -> None:
    designs = _designs()
    cold = [_cold(cfg) for cfg in designs]
    _forget()
    for cfg in designs:  # every op and stage of the next designs is now recorded at least once ...
        count(cfg)
    assert tracing._REPLAYS and len(tracing._PARTS) < sum(len(cfg.stages) for cfg in designs)
    for cfg, want in zip(reversed(designs), reversed(cold)):  # ... and replayed in another order
        assert _stats(count(cfg)) == want, cfg.name
    real = count(designs[3], device="cpu")  # real arithmetic: the replay never runs there
    assert_same_module_counts(count(designs[3]), real)


def test_replay_is_a_fresh_tensor_with_the_recorded_layout() -> None:
    import torch

    tracing._REPLAYS.clear()
    x = torch.empty(1, 3, 8, 8, device="meta")
    w = torch.empty(4, 3, 3, 3, device="meta")
    outs = []
    for _ in range(2):  # recorded, then replayed
        with tracing.MacCounter(meta=True) as counter:
            y = torch.nn.functional.conv2d(x, w, padding=1)
            z = torch.nn.functional.max_pool2d(y, 2)
        assert (y.shape, z.shape, y.stride()) == ((1, 4, 8, 8), (1, 4, 4, 4), (256, 64, 8, 1))
        assert counter.flops == 2 * 4 * 3 * 9 * 64 and "aten.max_pool2d_with_indices" in counter.uncounted
        outs.append(y)
    assert len(tracing._REPLAYS) >= 2 and outs[0] is not outs[1]


def test_in_place_and_view_ops_are_never_replayed() -> None:
    import torch

    a = torch.ops.aten
    x = torch.empty(2, 3, device="meta")
    assert tracing._replay_key(a.add_.Tensor, (x, x), {}) is None
    assert tracing._replay_key(a.view.default, (x, [6]), {}) is None
    assert tracing._replay_key(a.add.Tensor, (x, x), {}) is not None
    assert tracing._replay_key(a.add.Tensor, (x, torch.empty(2, 3)), {}) is None  # a real tensor


@pytest.mark.parametrize("meta_build", [False, True])
def test_uninitialised_build_has_the_models_parameters_and_buffers(
    meta_build: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if meta_build:
        monkeypatch.setattr(estimate, "META_BUILD_PARAMS", 0)
    for cfg in _designs()[:6]:
        fast, real = estimate.build_meta(cfg), build_model(cfg)
        assert all(t.is_meta for t in fast.parameters())
        assert [(n, p.shape, p.requires_grad) for n, p in fast.named_parameters()] == [
            (n, p.shape, p.requires_grad) for n, p in real.named_parameters()
        ]
        assert [(n, b.shape, b.dtype) for n, b in fast.named_buffers()] == [
            (n, b.shape, b.dtype) for n, b in real.named_buffers()
        ]


def test_uninitialised_build_leaves_real_initialisation_alone() -> None:
    import torch

    model = build_model(load_preset("tiny"))
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.abs().sum() > 0  # Kaiming init ran: the skipping is local to build_meta


# --------------------------------------------------------------------------- the fast path
def _body(base: ModelConfig, values: dict[str, Any], detail: str | None = None) -> bytes:
    return json.dumps({"base": base.to_url(), "preset": "full", "values": values, "diagram": detail}).encode()


def test_fast_path_strip_equals_the_full_results_also_after_an_invalid_edit() -> None:
    from idfy.ui.fast_path import answer
    from idfy.ui.tabs.design.results import results_for

    base = load_preset("full")
    bad = answer(_body(base, {"stages.0.conv.kind": "group", "stages.0.conv.groups": 5}))[1]
    assert bad["ok"] is False and "groups" in bad["message"]
    for w in (92, 88):
        status, data = answer(_body(base, {"stages.2.width": w}))
        cfg = base.set("stages.2.width", w)
        assert status == 200 and data["ok"] is True and data["token"] == cfg.to_url()
        clear_cache()
        _forget()
        full = results_for(cfg, None, "full", base)  # cold: no report, no recorded op or stage
        assert data["summary"] == full["summary"]
        params = sum(p.numel() for p in build_model(cfg).parameters())
        assert f"{params:,}" in data["summary"] and analyze(cfg).params_total == params


def test_two_callers_of_one_new_design_run_one_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    from idfy.analysis import measure
    from idfy.ui import fast_path

    calls: list[str] = []
    real = measure._analyze

    def slow_analyze(cfg: ModelConfig, *args: Any) -> Any:
        calls.append(cfg.fingerprint())
        time.sleep(0.3)  # both callers are inside before the first finishes
        return real(cfg, *args)

    base = load_preset("full")
    analyze(base)
    monkeypatch.setattr(measure, "_analyze", slow_analyze)
    body = _body(base, {"stages.2.width": 76})
    out: list[Any] = []
    threads = [threading.Thread(target=lambda: out.append(fast_path.answer(body))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [s for s, _ in out] == [200, 200] and out[0][1]["summary"] == out[1][1]["summary"]
    assert calls == [base.set("stages.2.width", 76).fingerprint()]


def test_the_diagram_drawn_ahead_is_the_one_the_page_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    from idfy.ui import fast_path
    from idfy.ui.tabs.design import results

    renders: list[int] = []
    real = results.render

    def slow_render(dot: Any, fmt: str = "svg") -> bytes:
        renders.append(1)
        time.sleep(0.3)  # the page's request arrives while this drawing runs
        return real(dot, fmt)

    monkeypatch.setattr(results, "render", slow_render)
    base = load_preset("full")
    cfg = base.set("stages.2.width", 68)
    ahead = threading.Thread(target=fast_path.prefetch_diagram, args=(cfg, "full"))
    ahead.start()
    time.sleep(0.05)
    status, data = fast_path.answer(
        json.dumps({"base": cfg.to_url(), "preset": "full", "values": {}, "diagram": "stages"}).encode()
    )
    ahead.join(timeout=60)
    assert status == 200 and "<svg" in data["diagram"] and "changed against full" in data["diagram"]
    assert len(renders) == 1


#: Records, in the page, when each request to the fast path or to Gradio's queue leaves and when its answer
#: arrives (``performance.now()``, ms).
_REQUEST_PROBE = """
window.__idfyNet = [];
const fetch0 = window.fetch;
window.fetch = function (url, opts, ...rest) {
  const u = String(url);
  const kind = u.includes('/queue/join') ? 'join'
    : u.includes('idfy/design') ? ((opts && String(opts.body).includes('"diagram":"')) ? 'diagram' : 'numbers')
    : null;
  const p = fetch0.call(this, url, opts, ...rest);
  if (kind) {
    const rec = {kind, sent: performance.now(), answered: null};
    window.__idfyNet.push(rec);
    p.then(() => { rec.answered = performance.now(); }, () => {});
  }
  return p;
};
"""


def test_a_typed_width_asks_for_numbers_and_diagram_at_once_before_gradios_event(
    page: Any, app_url: str
) -> None:
    """Both fast-path requests leave from the input event itself: before Gradio's front end has gathered
    its inputs and joined its queue, and the diagram's without waiting for the numbers' answer."""
    page.add_init_script(_REQUEST_PROBE)
    page.goto(app_url + "?preset=full")
    page.wait_for_selector("#diagram svg")
    page.wait_for_function(
        "() => location.search.includes('cfg=') && !document.documentElement.classList.contains('idfy-linking')"
    )
    button = page.locator("#stage-3").locator("button.label-wrap").first
    if "open" not in (button.get_attribute("class") or ""):
        button.click()
    changed = load_preset("full").set("stages.2.width", 108)
    expected = f"{sum(p.numel() for p in build_model(changed).parameters()):,}"
    page.evaluate("() => { window.__idfyNet.length = 0; }")
    page.locator("#c-stages-2-width").locator("input").first.fill("108")
    page.wait_for_function(
        "(x) => (document.querySelector('.idfy-card-params .idfy-card-sub') || {}).innerText.startsWith(x)",
        arg=expected,
    )
    page.wait_for_function("() => window.__idfyNet.filter((r) => r.kind === 'join').length > 0")
    net = page.evaluate("() => window.__idfyNet")
    first = {kind: next(r for r in net if r["kind"] == kind) for kind in ("numbers", "diagram", "join")}
    assert first["numbers"]["sent"] < first["join"]["sent"]
    assert first["diagram"]["sent"] < first["join"]["sent"]
    assert first["numbers"]["answered"] is None or first["diagram"]["sent"] <= first["numbers"]["answered"]
