"""README.md's presets table holds the library's numbers: every preset, its input, its parameters as written
(``build_model``) and as the training engine fits it to the default data (fashion-canvas at 64 px)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idfy import build_model, load_preset
from idfy.presets import list_presets
from idfy.train import TrainConfig, train
from idfy.train.events import Start

ROOT = Path(__file__).resolve().parent.parent
FASHION = Path("/usr/share/datasets/fashion-mnist")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


def _table() -> dict[str, dict[str, str]]:
    """The presets table's rows by preset name: ``{column header: cell}``."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Presets", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    headers = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    return {r[0].strip("`"): dict(zip(headers, r, strict=True)) for r in rows}


def _count(cell: str) -> int:
    if not re.fullmatch(r"\d{1,3}(,\d{3})*", cell):
        raise ValueError(f"not a parameter count: {cell!r}")
    return int(cell.replace(",", ""))


def test_the_table_lists_every_preset_with_its_input_and_params_as_written() -> None:
    table = _table()
    assert sorted(table) == sorted(list_presets())
    for name, row in table.items():
        cfg = load_preset(name)
        h, w = cfg.input.size
        assert row["input"] == f"{h}×{w}×{cfg.input.channels}", name
        assert _count(row["params"]) == sum(p.numel() for p in build_model(cfg).parameters()), name


@pytest.mark.skipif(
    not FASHION.is_dir(), reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"
)
def test_params_as_trained_are_the_engines_on_the_default_data() -> None:
    """The count the engine's Start event reports (what ``python -m idfy train --preset NAME`` and the Train tab
    show) for the default data, fashion-canvas at 64 px."""
    from idfy.data import make_dataset

    tc = TrainConfig(batch_size=8)
    assert (tc.data, tc.size) == ("fashion-canvas", 64)  # what the README's caption says
    data = (
        make_dataset(tc.data, split="train", size=tc.size, n=8),
        make_dataset(tc.data, split="test", size=tc.size, n=8),
    )
    assert (data[0].channels, len(data[0].classes)) == (1, 10)
    for name, row in _table().items():
        run = train(load_preset(name), tc, data=data)
        try:
            start = next(e for e in run if isinstance(e, Start))
        finally:
            run.close()
        assert _count(row["params as trained"]) == start.num_params, name
