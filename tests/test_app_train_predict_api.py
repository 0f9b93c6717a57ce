"""The Train / Predict endpoints through ``gradio_client`` against the live explorer: ``/train`` streams and keeps a
checkpoint that ``/predict`` of the same session uses, ``/stop_training`` ends a run cleanly, and every event of
the two tabs is named or private."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("app")

ROOT = Path(__file__).resolve().parent.parent
STAR = ROOT / "assets" / "examples" / "shapes_star.png"
MODULES = ("idfy.ui.tabs.train", "idfy.ui.tabs.predict")
PUBLIC = {"train", "race", "stop_training", "predict"}
#: /train's inputs: dataset, size, model, budget kind, budget, optimizer, lr, batch size.
TINY_RUN = ("shapes", 32, "tiny", "steps", 20, "adamw", 0.002, 16)


def _state(status: str) -> str:
    m = re.search(r'data-state="(\w+)"', status)
    assert m, status
    return m.group(1)


@pytest.fixture
def client(app_url: str) -> Iterator[Any]:
    """A fresh client: its own session (its own latest checkpoint)."""
    from gradio_client import Client

    c = Client(app_url, verbose=False)
    yield c
    c.close()


def test_every_event_of_the_two_tabs_is_named_or_private() -> None:
    from idfy.ui.app import build_app

    demo = build_app()
    public, private = set(), 0
    for dep in demo.fns.values():
        if dep.fn is None or not (getattr(dep.fn, "__module__", "") or "").startswith(MODULES):
            continue
        if dep.api_visibility == "private":
            private += 1
            continue
        assert dep.api_name in PUBLIC, f"event {dep.api_name!r} needs an explicit api_name or to be private"
        public.add(dep.api_name)
    assert public == PUBLIC and private >= 5


def test_every_tab_is_built_in_page_order_by_build_ctx() -> None:
    from idfy.ui.app import TABS, build_app

    demo = build_app()
    labels = [b.label for b in demo.blocks.values() if type(b).__name__ == "Tab"]
    assert labels == [label for label, _ in TABS] == ["Design", "Compare", "Train", "Predict", "Evidence"]


def test_a_tab_that_cannot_be_imported_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken tab is an error naming the tab and its cause, never a page with the tab silently missing."""
    from idfy.ui import app

    (tmp_path / "idfy_broken_tab.py").write_text("raise RuntimeError('the layout file is missing')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(app, "TABS", (*app.TABS[:2], ("Train", "idfy_broken_tab"), *app.TABS[3:]))
    with pytest.raises(
        app.TabImportError,
        match=r"the Train tab \(idfy_broken_tab\) could not be imported: "
        r"RuntimeError: the layout file is missing",
    ):
        app.build_app()
    (tmp_path / "idfy_no_build.py").write_text("X = 1\n")
    monkeypatch.setattr(app, "TABS", (("Predict", "idfy_no_build"),))
    with pytest.raises(app.TabImportError, match=r"the Predict tab \(idfy_no_build\) has no build\(ctx\)"):
        app.build_app()


def test_train_then_predict_in_the_same_session(client: Any) -> None:
    from gradio_client import handle_file

    status, curves, samples, metrics, ckpt = client.predict(*TINY_RUN, api_name="/train")
    assert _state(status) == "done" and "step budget reached at step 20" in status
    assert curves is not None and Path(samples).is_file()
    assert metrics["headers"][0] == "class" and metrics["data"][0][0] == "all"
    assert Path(ckpt).name == "idfy-tiny-shapes-32px-step20.pt" and Path(ckpt).stat().st_size > 10_000

    summary, overlay, probs, stages, note, data = client.predict(
        handle_file(str(STAR)), "latest from Train", None, api_name="/predict"
    )
    assert 'data-state="ok"' in summary and "latest from Train" in summary
    assert Path(overlay).is_file()
    assert len(data["tuple_pixels"]) == 5 and data["image_size"] == [128, 128]
    assert probs["label"] == data["class_name"]
    assert any(item["caption"].startswith("stage 1 · injected") for item in stages)
    assert "the image re-injected there (S1: stem, stage 1" in note  # tiny injects at the stem and stage 1

    # the downloaded checkpoint works as an upload too, in another session
    from gradio_client import Client

    other = Client(client.src, verbose=False)
    try:
        summary = other.predict(handle_file(str(STAR)), "latest from Train", None, api_name="/predict")[0]
        assert "train a model in the Train tab first or upload a checkpoint" in summary
        summary, *_rest, data2 = other.predict(
            handle_file(str(STAR)), "uploaded .pt", handle_file(ckpt), api_name="/predict"
        )
        assert "uploaded idfy-tiny-shapes-32px-step20.pt" in summary
        assert data2["tuple_pixels"] == pytest.approx(data["tuple_pixels"], abs=1e-3)
    finally:
        other.close()


def test_race_streams_and_ends_with_a_table_a_verdict_and_every_checkpoint(client: Any) -> None:
    """/race: the model against 1-3 others, the same data, seed and step budget for each."""
    status, curves, samples, table, files = client.predict(
        "shapes", 32, "tiny", ["tiny_tuned"], "steps", 6, "adamw", 0.002, 16, ["flip"], api_name="/race"
    )
    assert _state(status) == "done" and "every checkpoint kept" in status and 'id="race-verdicts"' in status
    assert "beat chance" in status  # a verdict per design, whichever it is
    assert curves is not None and Path(samples).is_file()
    assert table["headers"][6] == "Δ vs first"
    assert [r[0] for r in table["data"]] == ["tiny", "tiny_tuned", "chance (constant answer)"]
    assert [Path(f).name.split("-")[:2] for f in files] == [["idfy", "race1"], ["idfy", "race2"]]
    status = client.predict(
        "shapes", 32, "tiny", [], "steps", 6, "adamw", 0.002, 16, ["flip"], api_name="/race"
    )[0]
    assert _state(status) == "failed" and "race against" in status


def test_stop_training_ends_the_run_and_keeps_the_checkpoint(client: Any) -> None:
    augment = ["flip", "shift", "erase"]  # the optional 9th input (TINY_RUN leaves it at its default)
    job = client.submit("shapes", 32, "tiny", "seconds", 120, "adamw", 0.002, 16, augment, api_name="/train")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:  # until the run shows its first curve
        outs = job.outputs()
        if outs and _state(outs[-1][0]) == "training" and outs[-1][1]:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"no training update within 60 s: {job.outputs()[-1:]}")
    answer = client.predict(api_name="/stop_training")
    assert answer.startswith("stop requested")
    status, *_rest, ckpt = job.result(timeout=60)
    assert _state(status) == "stopped" and "stopped at step" in status
    assert Path(ckpt).is_file()
    assert time.monotonic() - t0 < 90
    assert client.predict(api_name="/stop_training") == "no training of this page is running"


def test_bad_settings_come_back_as_a_status_message(client: Any) -> None:
    status, *_rest, ckpt = client.predict(
        "shapes", 32, "tiny", "seconds", 60, "adamw", 0, 16, api_name="/train"
    )
    assert _state(status) == "failed" and "learning rate" in status and ckpt is None
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="maximum value 224"):  # the slider's own limit, checked by Gradio
        client.predict("shapes", 500, "tiny", "seconds", 60, "adamw", 0.002, 16, api_name="/train")


@pytest.fixture(scope="module")
def library_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint written by the library itself (4 steps of ``tiny`` at 32 px)."""
    import torch

    from idfy import load_preset
    from idfy.data import make_dataset
    from idfy.train import TrainConfig, train
    from idfy.train.events import Done

    out = tmp_path_factory.mktemp("run")
    data = (
        make_dataset("shapes", split="train", size=32, n=32),
        make_dataset("shapes", split="test", size=32, n=8),
    )
    tc = TrainConfig(size=32, batch_size=16, max_steps=4, time_budget_s=None, eval_every=0, sample_every=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        done = list(train(load_preset("tiny"), tc, out_dir=out, data=data))[-1]
    finally:
        torch.set_num_threads(threads)
    assert isinstance(done, Done) and done.checkpoint
    return Path(done.checkpoint)


def test_uploaded_checkpoint_and_a_file_that_is_not_an_image(
    client: Any, library_checkpoint: Path, tmp_path: Path
) -> None:
    from gradio_client import handle_file

    ckpt = handle_file(str(library_checkpoint))
    summary, overlay, *_, data = client.predict(
        handle_file(str(STAR)), "uploaded .pt", ckpt, api_name="/predict"
    )
    assert 'data-state="ok"' in summary and overlay and len(data["tuple"]) == 5
    bad = tmp_path / "photo.png"
    bad.write_text("not really a picture")
    summary, overlay, _probs, stages, _note, data = client.predict(
        handle_file(str(bad)), "uploaded .pt", ckpt, api_name="/predict"
    )
    assert 'data-state="err"' in summary and "photo.png: not an image" in summary
    assert (overlay, data) == (None, None) and not stages
