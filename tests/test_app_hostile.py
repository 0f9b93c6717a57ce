"""Hostile designs through the live explorer (``gradio_client``): every endpoint that takes a design as text
answers each hostile input with a short message, never opens a file it names, never echoes a file's content,
and ``/analyze`` keeps answering other sessions within 1 s (or 1.5 × its quiet time, when a loaded test machine
is slower than 1 s even without an attack).

Inputs: the reported alias bomb, 1000-deep nesting, 1e400, 5000 digits (``tests/data/hostile/``), a 200 kB
string, a 1000-width head, a text over the 256 KiB cap, a ``v1.`` string unpacking to 20 MB, and file paths
(an existing YAML file holding a secret, a missing one, ``/etc/passwd``, ``/proc/self/status``, ``file:``).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("app")

DATA = Path(__file__).parent / "data" / "hostile"
SECRET = "s3cr3t-from-a-file"
#: Endpoints that take a design as text: api_name -> arguments around the text.
TEXT_ENDPOINTS: dict[str, Any] = {
    "/validate": lambda t: (t,),
    "/analyze": lambda t: (t, 0),
    "/diagram": lambda t: (t, "stages"),
    "/compare": lambda t: ([t], False),
    "/apply_yaml": lambda t: (t,),
}


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "secret.yaml"
    path.write_text(f'num_classes: "{SECRET}"\n')
    return path


@functools.cache
def _hostile(secret_file: Path) -> dict[str, str]:
    bomb = "v1." + base64.urlsafe_b64encode(zlib.compress(b" " * 20_000_000, 9)).decode().rstrip("=")
    return {
        "alias bomb": (DATA / "alias_bomb.yaml").read_text(),
        "1000 deep": (DATA / "deep.yaml").read_text(),
        "1e400": (DATA / "overflow.yaml").read_text(),
        "5000 digits": (DATA / "digits.yaml").read_text(),
        "200 kB string": "num_classes: '" + "x" * 200_000 + "'\n",
        "1000 widths": "head: {widths: [" + ", ".join(["8"] * 999 + ["0"]) + "]}\n",
        "over the cap": "#" * (300 * 1024) + "\nname: x\n",
        "v1 bomb": bomb,
        "secret file": str(secret_file),
        "secret file:": f"file:{secret_file}",
        "secret .yaml name": secret_file.name,
        "missing file": str(secret_file.with_name("missing.yaml")),
        "/etc/passwd": "/etc/passwd",
        "/proc": "/proc/self/status",
        "relative": "../" * 8 + "etc/passwd",
    }


@pytest.fixture(scope="module")
def client(app_url: str) -> Iterator[Any]:
    from gradio_client import Client

    c = Client(app_url, verbose=False)
    yield c
    c.close()


def _answer(client: Any, api_name: str, args: tuple) -> str:
    """The endpoint's answer (or its error) as one string."""
    from gradio_client.exceptions import AppError

    try:
        return repr(client.predict(*args, api_name=api_name))
    except AppError as e:
        return str(e)


def _budget(client: Any) -> float:
    """1 s, or 1.5 × the quiet median of /analyze when a loaded test machine is slower than that alone."""
    quiet = sorted(_timed_analyze(client) for _ in range(3))[1]
    return max(1.0, 1.5 * quiet)


def _timed_analyze(client: Any) -> float:
    start = time.perf_counter()
    report = client.predict("tiny", 0, api_name="/analyze")
    assert report["params_total"] > 0
    return time.perf_counter() - start


def test_every_text_endpoint_answers_hostile_input_briefly_and_never_reads_files(
    client: Any, secret_file: Path
) -> None:
    _timed_analyze(client)  # warm: imports and caches
    budget = _budget(client)
    for label, text in _hostile(secret_file).items():
        for api_name, args in TEXT_ENDPOINTS.items():
            start = time.perf_counter()
            answer = _answer(client, api_name, args(text))
            took = time.perf_counter() - start
            assert took < 5.0, f"{api_name} took {took:.1f} s on {label}"
            assert SECRET not in answer and "root:" not in answer, f"{api_name} echoed a file on {label}"
            assert "Traceback" not in answer and "internal error" not in answer, (
                f"{api_name} crashed on {label}"
            )
            if api_name == "/validate":
                assert "'ok': False" in answer and len(answer) < 600, f"{label}: {answer[:200]}"
    assert min(_timed_analyze(client) for _ in range(3)) < budget  # the best of 3: the server is free again


def test_files_and_missing_files_answer_alike(client: Any, secret_file: Path) -> None:
    answers = set()
    for text in [
        str(secret_file),
        str(secret_file.with_name("missing.yaml")),
        "/etc/passwd",
        "/proc/self/status",
    ]:
        message = client.predict(text, api_name="/validate")["message"]
        # the quoted name (shortened when long, as every echoed value is) is the only difference allowed
        answers.add(re.sub(r"^unknown preset '[^']*'", "unknown preset NAME", message))
    assert len(answers) == 1 and next(iter(answers)).startswith("unknown preset NAME.")
    message = client.predict(f"file:{secret_file}", api_name="/validate")["message"]
    assert message.startswith("file paths are not accepted here")


def _beside(attacker: Any, other: Any, text: str) -> float:
    """Seconds ``other`` waits for /analyze while ``attacker`` sends ``text`` to /validate and /analyze."""
    jobs = [attacker.submit(*TEXT_ENDPOINTS[api](text), api_name=api) for api in ("/validate", "/analyze")]
    took = _timed_analyze(other)
    for job in jobs:
        try:
            assert SECRET not in repr(job.result(timeout=30))
        except Exception as e:  # the endpoints' clean errors
            assert SECRET not in str(e)
    return took


def test_hostile_session_leaves_analyze_answering_others_within_1s(app_url: str, secret_file: Path) -> None:
    """Beside each hostile input, another session's /analyze waits no longer than beside a normal design
    (both share the endpoints' two workers): within 1 s, or twice the normal wait on a loaded machine.

    A hostile input that stalls a worker does so every time; one slow answer on a machine busy with other
    work does not, so the better of two tries is measured (a single 1.59 s against a 1.51 s budget was seen
    under a load of 8 on two cores)."""
    from gradio_client import Client

    attacker, other = Client(app_url, verbose=False), Client(app_url, verbose=False)
    try:
        _timed_analyze(other)
        normal = sorted(_beside(attacker, other, "tiny") for _ in range(3))[1]
        budget = max(1.0, 2.0 * normal)
        for label, text in _hostile(secret_file).items():
            took = min(_beside(attacker, other, text) for _ in range(2))
            assert took < budget, f"/analyze took {took:.2f} s beside {label} (budget {budget:.2f} s)"
    finally:
        attacker.close()
        other.close()


def test_upload_cannot_name_a_server_file(app_url: str, secret_file: Path) -> None:
    """An upload is a file Gradio stored: a request naming a server path instead (raw HTTP, as no client
    would upload it first) is refused before the handler runs."""
    import httpx

    payload = {"data": [{"path": str(secret_file), "meta": {"_type": "gradio.FileData"}}]}
    event = httpx.post(f"{app_url}gradio_api/call/upload_yaml", json=payload, timeout=30).json()["event_id"]
    answer = httpx.get(f"{app_url}gradio_api/call/upload_yaml/{event}", timeout=30).text
    assert "event: error" in answer and SECRET not in answer


@pytest.mark.parametrize("preset", ["/etc/passwd", "secret", "../presets/tiny"])
def test_url_parameters_never_name_a_file(preset: str, secret_file: Path) -> None:
    from idfy.ui.tabs.design import handlers as design_tab

    for params in ({"preset": preset}, {"preset": str(secret_file)}, {"cfg": str(secret_file)}):
        out = design_tab.on_page_load(None, SimpleNamespace(query_params=params))
        text = repr(out)
        assert SECRET not in text and "unknown preset" in text


# --------------------------------------------------------------------------- the Design tab's JSON fast path
def _fast(app_url: str, body: Any, content_type: str = "application/json") -> Any:
    import httpx

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(
        f"{app_url}idfy/design", content=data, headers={"content-type": content_type}, timeout=30
    )


def test_fast_path_answers_every_hostile_base_in_one_line_and_never_reads_files(
    app_url: str, secret_file: Path
) -> None:
    for label, text in _hostile(secret_file).items():
        if len(text) > 8_000:  # over the route's base limit: refused before any parsing (next test)
            continue
        start = time.perf_counter()
        r = _fast(app_url, {"base": text, "preset": None, "values": {}})
        took = time.perf_counter() - start
        answer = r.text
        assert took < 5.0, f"fast path took {took:.1f} s on {label}"
        assert SECRET not in answer and "root:" not in answer, f"fast path echoed a file on {label}"
        assert "Traceback" not in answer and "internal error" not in answer, f"fast path crashed on {label}"
        data = r.json()
        assert data["ok"] is False and "\n" not in data["message"] and len(data["message"]) < 600, label


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"x" * 20_000, "application/json", 413, "too large"),
        (b"{}", "text/plain", 415, "application/json"),
        (b"{not json", "application/json", 400, "JSON object"),
        (b"[1, 2]", "application/json", 400, "JSON object"),
        (b'{"base": "' + b"a" * 9000 + b'"}', "application/json", 400, "base"),
        (b'{"values": {"../../etc/passwd": 1}}', "application/json", 400, "unknown control"),
        (b'{"values": {"stages.0.width": {"a": [1]}}}', "application/json", 400, "each value"),
        (b'{"values": {"stages.0.width": "' + b"9" * 300 + b'"}}', "application/json", 400, "each value"),
        (b'{"values": [1]}', "application/json", 400, "values"),
        (b'{"preset": 3}', "application/json", 400, "preset"),
        (b'{"diagram": "../../x"}', "application/json", 400, "diagram"),
    ],
)
def test_fast_path_refuses_unreadable_requests_in_one_line(
    app_url: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    r = _fast(app_url, body, content_type)
    assert r.status_code == status and r.json()["ok"] is False
    assert words in r.json()["message"] and "\n" not in r.json()["message"]


def test_fast_path_gives_the_design_handlers_numbers_and_errors(app_url: str) -> None:
    from idfy import build_model, load_preset

    base = load_preset("full")
    r = _fast(app_url, {"base": base.to_url(), "preset": "full", "values": {"stages.2.width": 104}})
    changed = base.set("stages.2.width", 104)
    assert r.status_code == 200 and r.json()["ok"] is True
    assert f"{sum(p.numel() for p in build_model(changed).parameters()):,}" in r.json()["summary"]
    assert r.json()["token"] == changed.to_url()
    pic = _fast(
        app_url, {"base": changed.to_url(), "preset": "full", "values": {}, "diagram": "stages"}
    ).json()
    assert "<svg" in pic["diagram"] and "changed against full" in pic["diagram"]
    bad = _fast(app_url, {"base": base.to_url(), "values": {"stages.0.conv.groups": 5}}).json()
    assert bad["ok"] is False and "groups=5" in bad["message"]
    huge = _fast(app_url, {"base": base.to_url(), "values": {"stages.0.width": 4096, "input.height": 2048}})
    assert huge.json()["ok"] is False  # the memory guard, as for every other entry
