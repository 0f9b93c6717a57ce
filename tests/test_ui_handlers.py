"""Event handlers of the Design and Compare tabs as plain functions (no server, no browser)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from idfy import build_model, load_preset
from idfy.config import ModelConfig
from idfy.ui.controls import KEYS, config_to_values
from idfy.ui.state import CURRENT, SAVED_PREFIX
from idfy.ui.tabs import compare as compare_tab
from idfy.ui.tabs.design import handlers, results, words


def _call(cfg: ModelConfig, **changes: Any) -> dict[str, Any]:
    values = config_to_values(cfg)
    values.update(changes)
    return handlers.design_change(*[values[k] for k in KEYS], cfg.to_yaml(), {}, cfg.name)


def _is_noop(update: Any) -> bool:
    return isinstance(update, dict) and update.get("__type__") == "update" and len(update) == 1


def test_design_change_returns_numbers_shapes_and_state() -> None:
    cfg = load_preset("seed_model2")
    out = _call(cfg, **{"stages.1.inject": True})
    new = ModelConfig.from_yaml(out["config"])
    assert new.stages[1].inject
    params = sum(p.numel() for p in build_model(new).parameters())
    assert f"{params:,}" in out["summary"]
    assert 'data-stale="0"' in out["summary"] and "idfy-error" not in out["summary"]
    assert "+104 vs seed_model2" in out["summary"]  # the change against the preset
    assert "(modified) · 1 change" in out["preset_state"]
    # S1b: stage 2 downsamples by a strided conv, so the image is injected at the incoming 112×112
    assert '<td class="idfy-changed" title="preset: —">3×112×112</td>' in out["table"]
    assert ModelConfig.from_url(out["token"]) == new
    details = results.on_details(out["config"], "stages", None)
    assert set(details) == set(results.DETAIL_FIELDS)
    assert Path(details["yaml_file"]).read_text() == details["yaml_code"] == out["config"]
    assert "<svg" in details["diagram"] and Path(details["svg_file"]).read_text().count("<svg") == 1
    again = results.on_details(out["config"], "stages", details["rendered"])
    assert list(again) == ["rendered"] and _is_noop(again["rendered"])  # nothing resent for the same design


def test_invalid_combination_shows_the_message_and_keeps_everything_else() -> None:
    out = _call(load_preset("full"), **{"stages.0.conv.groups": 5})
    assert "groups=5" in out["summary"] and "idfy-error" in out["summary"]
    assert (
        'data-error-field="c-stages-0-conv-groups"' in out["summary"] and 'data-stale="1"' in out["summary"]
    )
    assert "stage 1 groups → 4" in out["summary"]  # a tested fix, not "or change the width"
    assert "change the width" not in out["summary"]
    assert list(out) == ["summary"]  # the table, state and link keep the last valid design


def test_unexpected_failure_is_logged_not_shown(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(results, "_analyze", boom)
    with caplog.at_level(logging.ERROR, logger="idfy.ui"):
        out = _call(load_preset("tiny"), **{"stages.0.width": 24})
    assert results.INTERNAL_ERROR.split("(")[0].strip() in out["summary"]
    assert "secret" not in out["summary"] and "Traceback" not in out["summary"]
    assert "secret internal detail" in caplog.text


def test_preset_and_page_load_set_every_control() -> None:
    out = handlers.on_preset("seed_model2", {})
    assert set(out) == set(handlers.LOADED_NAMES)
    assert out["preset"] == "seed_model2"
    values = config_to_values(load_preset("seed_model2"))
    assert {k: out[k]["value"] for k in KEYS} == values
    assert out["layout.stage3"]["visible"] is False and out["layout.stage1"]["visible"] is True
    cfg = load_preset("tiny").set("stages.1.width", 40)
    request = SimpleNamespace(query_params={"cfg": cfg.to_url()})
    out = handlers.on_page_load({}, request)  # type: ignore[arg-type]
    assert ModelConfig.from_yaml(out["config"]) == cfg
    damaged = handlers.on_page_load({}, SimpleNamespace(query_params={"cfg": "v1.xyz"}))  # type: ignore[arg-type]
    assert list(damaged) == ["summary"] and "damaged" in damaged["summary"]
    nothing = handlers.on_page_load({}, SimpleNamespace(query_params={}))  # type: ignore[arg-type]
    assert all(_is_noop(u) for u in nothing.values())


def test_upload_checks_type_size_and_content(tmp_path: Path) -> None:
    good = tmp_path / "d.yaml"
    good.write_text(load_preset("small").to_yaml())
    assert ModelConfig.from_yaml(handlers.on_upload(str(good), {})["config"]).name == "small"
    bad = tmp_path / "d.txt"
    bad.write_text("x")
    assert ".yaml or .yml" in handlers.on_upload(str(bad), {})["summary"]
    broken = tmp_path / "b.yml"
    broken.write_text("stages: [1, 2")
    assert "YAML could not be read" in handlers.on_upload(str(broken), {})["summary"]
    big = tmp_path / "big.yaml"
    big.write_text("#" * 400_000)
    assert "larger than" in handlers.on_upload(str(big), {})["summary"]
    assert "unknown option" in handlers.on_apply_yaml("name: x\nwidth: 3\n", {})["summary"]


def test_diagram_detail_and_png() -> None:
    yaml_text = load_preset("seed_model2").to_yaml()
    details = results.on_details(yaml_text, "blocks", None)
    html, path = details["diagram"], details["svg_file"]
    assert "<svg" in html and Path(path).read_text().lstrip().startswith(("<?xml", "<svg"))
    png = handlers.on_png(yaml_text, "stages")["png_file"]
    assert Path(png["value"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_and_save() -> None:
    current = load_preset("tiny").to_yaml()
    out = compare_tab.on_save("mine", {}, current, ["seed_model2"])
    saved, dropdown = out["saved"], out["designs"]
    assert "mine" in saved and SAVED_PREFIX + "mine" in dropdown["choices"]
    assert dropdown["value"] == ["seed_model2", SAVED_PREFIX + "mine"]
    out = compare_tab.on_compare(["seed_model2", CURRENT, SAVED_PREFIX + "mine"], True, saved, current)
    err, table, diagrams, stages = out["message"], out["table"], out["diagrams"], out["stages"]
    assert err == ""
    names = [row[0] for row in table["value"]]
    assert names[:3] == ["seed_model2 (reference)", "current design", "mine"]
    assert "resnet18 · timm" in names
    assert diagrams.count("<svg") == 3 and diagrams.count('data-gzoom="in"') == 3  # zoomable
    assert '<th scope="row">stage\u00a02</th>' in stages and "idfy-changed" in stages  # per stage
    err = compare_tab.on_compare(["seed_model2"], True, {}, current)["message"]
    assert "at least two" in err


def test_visibility_rules() -> None:
    values = config_to_values(load_preset("full"))
    out = handlers.visibility(*[values[k] for k in handlers.VIS_KEYS])
    assert set(out) == set(handlers.VIS_OUTPUTS)
    assert out["layout.stem"]["visible"] is True  # the stem's options
    assert [out[f"layout.stage{i}"]["visible"] for i in range(4)] == [True, True, True, False]  # stage rows
    assert out["stages.2.conv.ghost_ratio"]["visible"] is True  # full's stage 3 is a ghost conv
    assert out["stages.0.conv.ghost_ratio"]["visible"] is False
    values["stages.count"] = "x"
    assert all(_is_noop(u) for u in handlers.visibility(*[values[k] for k in handlers.VIS_KEYS]).values())


def test_a_clicked_fix_loads_the_fixed_design() -> None:
    cfg = load_preset("full")
    values = config_to_values(cfg)
    values["stages.0.conv.groups"] = 5
    payload = '{"field": "c-stages-0-conv-groups", "value": "4"}'
    out = handlers.on_fix(payload, *[values[k] for k in KEYS], cfg.to_yaml(), {}, "full")
    assert set(out) == set(handlers.LOADED_NAMES)
    fixed = ModelConfig.from_yaml(out["config"])
    assert fixed == cfg.set("stages.0.conv.groups", 4)
    bad = handlers.on_fix('{"field": "../../etc"}', *[values[k] for k in KEYS], cfg.to_yaml(), {}, "full")
    assert "unknown control" in bad["summary"]


def test_details_outline_what_differs_from_the_preset() -> None:
    changed = load_preset("seed_model2").set("stages.1.inject", True).to_yaml()
    html = results.on_details(changed, "stages", None, "seed_model2")["diagram"]
    assert "changed against seed_model2" in html and "#2ca02c" in html  # the new injection in green
    assert "data-nodes=" in html and "stages/1/blocks" in html  # the inspector's data
    same = results.on_details(load_preset("seed_model2").to_yaml(), "stages", None, "seed_model2")["diagram"]
    assert "changed against" not in same


def test_changes_in_words_and_help_cover_every_control() -> None:
    a = load_preset("seed_model2")
    b = a.set("stages.1.inject", True).set("stages.0.width", 12)
    assert results.changes_in_words(a, b) == ["stage 1 width: 8 → 12", "stage 2 inject: off → on"]
    data = words.help_data()
    assert all(f"c-{k.replace('.', '-')}" in data["fields"] for k in KEYS)
    assert "He et al." in data["choices"]["c-block-order"]["preact"]


def test_compare_notes_say_changes_in_plain_words_with_their_cost() -> None:
    seed = load_preset("seed_model2")
    assert (
        compare_tab._diff_note(seed, seed.set("stages.1.inject", True))
        == "stage 2 inject: off → on (+104 params)"
    )


def test_stage_table_reads_stem_stages_head_in_model_order() -> None:
    for cfg, changes in ((load_preset("full"), {}), (load_preset("seed_model1"), {"stem.enabled": True})):
        table = _call(cfg, **changes)["table"]
        names = [n.replace("\u00a0", " ") for n in re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', table)]
        assert names[0] == "stem" and names[-1] == "head", names
        stages = [n for n in names if n.startswith("stage")]
        assert (
            stages == [f"stage {i + 1}" for i in range(len(stages))]
            and names.index(stages[-1]) < len(names) - 1
        )


def test_a_link_opens_without_deltas_against_the_default_it_replaced() -> None:
    """The page's first design comes from the link: no "previous design" flash against the default the browser
    held before the link loaded (the user never saw it); picking a preset later does flash the change."""
    shown = load_preset("seed_model2").to_yaml()
    request = SimpleNamespace(query_params={"preset": "tiny"})
    linked = handlers.on_page_load({}, request, current=shown)  # type: ignore[arg-type]
    assert ModelConfig.from_yaml(linked["config"]).name == "tiny"
    assert "data-flash" not in linked["summary"]
    picked = handlers.on_preset("tiny", {}, current=shown)
    assert "data-flash" in picked["summary"]
