"""The early strip of :mod:`idfy.ui.early` without a browser: which design a page address names, where the view
goes in Gradio's HTML, and the middleware's pass-through, limits and time cap."""

from __future__ import annotations

import time

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from idfy import build_model, load_preset
from idfy.ui import early

PAGE = '<html><head><title>t</title></head><body style="margin: 0">\n<gradio-app></gradio-app></body></html>'


def count(name: str) -> str:
    return f"{sum(p.numel() for p in build_model(load_preset(name)).parameters()):,}"


def client(monkeypatch: pytest.MonkeyPatch, strip: str | None = None) -> TestClient:
    if strip is not None:
        monkeypatch.setattr(early, "early_strip", lambda query: strip + repr(sorted(query.items())))
    routes = [
        Route("/", lambda request: HTMLResponse(PAGE)),
        Route("/config", lambda request: JSONResponse({"x": 1})),
    ]
    return TestClient(Starlette(routes=routes, middleware=early.middleware('<div id="idfy-device">h</div>')))


def test_the_strip_is_the_design_the_address_names() -> None:
    assert f">{count('tiny')}<" in early.early_strip({"preset": "tiny"})
    assert f">{count('seed_model2')}<" in early.early_strip({})  # no link: the default preset
    token = load_preset("tiny").set("stages.0.width", 20).to_url()
    tiny20 = (
        f"{sum(p.numel() for p in build_model(load_preset('tiny').set('stages.0.width', 20)).parameters()):,}"
    )
    assert f">{tiny20}<" in early.early_strip({"cfg": token, "preset": "full"})  # cfg wins, as on page load


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"cfg": "v1.damaged"}, "damaged"),
        ({"preset": "../presets/tiny.yaml"}, "unknown preset"),
        ({"cfg": "/etc/passwd"}, "unknown preset"),
    ],
)
def test_a_bad_address_gives_the_strips_one_line(query: dict[str, str], words: str) -> None:
    strip = early.early_strip(query)
    assert 'class="idfy-error-body"' in strip and words in strip and "data-card" not in strip


def test_the_view_goes_after_body_and_the_styles_before_head_end() -> None:
    out = early.inject(PAGE.encode(), '<div class="idfy-strip">S</div>', "<b>H</b>").decode()
    assert out.index('<style id="idfy-early-css">') < out.index("</head>")
    # a link hides Gradio's Design tab before any of the body (the early strip included) is parsed
    assert out.index("classList.add('idfy-linking')") < out.index("</head>")
    assert out.index('<body style="margin: 0"><div id="idfy-early"') > 0
    assert out.index('<div class="idfy-strip">S</div>') < out.index("<gradio-app>")
    assert 'elementtiming="idfy-early-params"' not in out  # only on a params card
    assert early.inject(b"<html>no head</html>", "S") == b"<html>no head</html>"


def test_the_header_copy_has_no_ids() -> None:
    assert early.header_copy('<div id="idfy-device" class="x">cpu</div>') == '<div class="x">cpu</div>'


def test_the_middleware_serves_the_page_with_its_strip(monkeypatch: pytest.MonkeyPatch) -> None:
    with client(monkeypatch, "STRIP") as c:
        r = c.get("/?preset=tiny")
        assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
        assert "STRIP[('preset', 'tiny')]" in r.text
        assert 'id="idfy-device"' not in r.text  # the header copy carries no ids
        assert c.get("/config").json() == {"x": 1}  # other routes pass through
        assert "idfy-early" not in c.post("/").text  # only GET /


def test_a_slow_strip_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "WAIT_S", 0.05)
    monkeypatch.setattr(early, "early_strip", lambda query: time.sleep(0.5) or "LATE")
    with client(monkeypatch) as c:
        r = c.get("/")
        assert r.text == PAGE and int(r.headers["content-length"]) == len(PAGE)


def test_past_the_limit_the_page_comes_without_a_strip(monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(early.MAX_CONCURRENT):
        assert early._slots.acquire(timeout=5)  # a slow strip of another test may still hold one
    try:
        with client(monkeypatch, "STRIP") as c:
            assert c.get("/").text == PAGE
    finally:
        for _ in range(early.MAX_CONCURRENT):
            early._slots.release()
