"""The explorer's API through ``gradio_client`` against a live server (``/analyze``, ``/compare``, ``/diagram``,
``/validate``), and the rule that every event has an explicit ``api_name`` or is private."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from idfy import build_model, load_preset

pytestmark = pytest.mark.xdist_group("app")

#: Endpoints of the Design / Compare tabs and the API module (others' tabs add their own).
OURS = {
    "analyze": "public",
    "compare": "public",
    "diagram": "public",
    "validate": "public",
    "measure_latency": "public",
    "design_change": "undocumented",
    "load_preset": "undocumented",
    "reset_preset": "undocumented",
    "apply_yaml": "undocumented",
    "upload_yaml": "undocumented",
    "restore_design": "undocumented",
    "compare_designs": "undocumented",
    "save_design": "undocumented",
}


@pytest.fixture(scope="module")
def client(app_url: str) -> Iterator[Any]:
    from gradio_client import Client

    c = Client(app_url, verbose=False)
    yield c
    c.close()


def test_every_event_is_named_or_private() -> None:
    from idfy.ui.app import build_app

    demo = build_app()
    seen = {}
    for dep in demo.fns.values():
        module = getattr(dep.fn, "__module__", "") or ""
        if dep.fn is not None and not module.startswith(
            ("idfy.ui.tabs.design", "idfy.ui.tabs.compare", "idfy.ui.api")
        ):
            continue  # another tab's events
        if dep.api_visibility == "private":
            continue
        assert dep.api_name in OURS, f"event {dep.api_name!r} needs an explicit api_name or to be private"
        seen[dep.api_name] = dep.api_visibility
    assert seen == OURS


def test_analyze_seed_model2(client: Any) -> None:
    report = client.predict(load_preset("seed_model2").to_yaml(), 224, api_name="/analyze")
    assert report["input_shape"] == [3, 224, 224]
    stages = [r for r in report["stages"] if r["name"].startswith("stages.")]
    assert [r["out_shape"] for r in stages] == [[8, 112, 112], [16, 56, 56], [24, 28, 28]]
    model = build_model(load_preset("seed_model2"))
    assert report["params_total"] == sum(p.numel() for p in model.parameters())
    assert report["flops"] == 2 * report["macs"]
    assert "fvcore" in report["conventions"]["macs"]


def test_analyze_by_preset_name_at_another_size(client: Any) -> None:
    report = client.predict("tiny", 128, api_name="/analyze")
    assert report["input_shape"] == [3, 128, 128]


def test_compare_presets_and_yaml(client: Any) -> None:
    yaml_text = load_preset("tiny").set("stages.0.width", 24).to_yaml()
    out = client.predict(["seed_model2", yaml_text], True, api_name="/compare")
    names = [r["name"] for r in out["rows"]]
    assert names[:2] == ["seed_model2", "tiny"]
    assert {"resnet18", "mobilenetv3_small_100", "ghostnet_100"} <= set(names)
    assert out["rows"][0]["delta_params"] == 0


def test_diagram_is_svg(client: Any) -> None:
    svg = client.predict("seed_model2", "blocks", api_name="/diagram")
    assert "<svg" in svg and "</svg>" in svg


def test_validate(client: Any) -> None:
    ok = client.predict("seed_model2", api_name="/validate")
    assert ok["ok"] is True and ok["stage_shapes"] == [[8, 112, 112], [16, 56, 56], [24, 28, 28]]
    text = load_preset("full").to_yaml().replace("groups: 4", "groups: 5", 1)
    res = client.predict(text, api_name="/validate")
    assert res["ok"] is False and "groups=5" in res["message"]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("name: x\nstages: [{width: 8, widht: 3}]", "Did you mean 'width'"),
        ("seed_modle2", "Did you mean 'seed_model2'"),
        (
            "name: x\ninput: {size: [224, 224]}\nstages: [{width: 4096, depth: 16, stride: 1}]",
            "refuses designs",
        ),
    ],
)
def test_invalid_config_is_a_clean_error(client: Any, config: str, fragment: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(config, 0, api_name="/analyze")
    message = str(info.value)
    assert fragment in message
    assert "Traceback" not in message and 'File "' not in message


@pytest.mark.parametrize("size", [1e308, -5, 7.5, 99999])
def test_analyze_input_size_is_checked_before_any_work(client: Any, size: float) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict("tiny", size, api_name="/analyze")
    assert str(info.value).startswith("input_size: give 0")


def test_compare_takes_at_most_four_designs(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="1 to 4"):
        client.predict(["tiny"] * 50, False, api_name="/compare")
