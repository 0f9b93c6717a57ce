"""The input boundary (``idfy.config_io``, ``idfy.presets.resolve_config``): hostile designs fail fast with a
short ConfigError, text from the network never names a file, and the command line still takes YAML paths.

The YAML files in ``tests/data/hostile/`` are the reported inputs: a 520-byte alias bomb, ``head.widths``
nested 1000 deep, ``input.scale`` = 1 followed by 400 zeros, ``num_classes`` = 5000 nines.
"""

from __future__ import annotations

import base64
import time
import zlib
from pathlib import Path

import pytest

import idfy
from idfy import ConfigError, ModelConfig
from idfy._dataclass_io import short_repr
from idfy.cli import main
from idfy.config_io import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES, decode_token, encode_token, read_config_file
from idfy.presets import list_presets, resolve_config
from idfy.ui.state import config_from_text

DATA = Path(__file__).parent / "data" / "hostile"
#: Longest message any hostile input may produce (a valid-options list plus a short excerpt).
MAX_MESSAGE = 400


def _refused(fn, *args, within_s: float = 1.0) -> str:
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        fn(*args)
    assert time.perf_counter() - start < within_s
    message = str(info.value)
    assert len(message) <= MAX_MESSAGE and "\n" not in message
    return message


def _token(raw: bytes) -> str:
    return "v1." + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def _nested(depth: int) -> list:
    x: list = []
    for _ in range(depth):
        x = [x]
    return x


# --------------------------------------------------------------------------- the reported inputs
def test_alias_bomb_is_refused_at_once() -> None:
    message = _refused(ModelConfig.from_yaml, (DATA / "alias_bomb.yaml").read_text(), within_s=0.5)
    assert message.startswith("config.task: YAML anchors and aliases")


def test_shared_list_bomb_given_as_a_dict_is_refused_at_once() -> None:
    bomb: list = ["lol"] * 10
    for _ in range(8):
        bomb = [bomb] * 10  # 10^9 leaves, 90 lists
    assert "more than" in _refused(ModelConfig.from_dict, {"task": bomb}, within_s=0.5)


def test_deep_nesting_is_refused_before_the_work() -> None:
    assert "nests deeper than" in _refused(ModelConfig.from_yaml, (DATA / "deep.yaml").read_text())
    assert "nests deeper than" in _refused(ModelConfig.from_dict, {"task": _nested(2000)})
    assert "nests deeper than" in _refused(
        ModelConfig.from_yaml, "head: {widths: " + "[" * 40 + "]" * 40 + "}"
    )
    url = encode_token({"head": {"widths": _nested(100)}})
    assert "nests deeper than" in _refused(ModelConfig.from_url, url)
    assert f"{MAX_DEPTH} levels" in _refused(ModelConfig.from_url, _token(b"[" * 5000 + b"]" * 5000))


def test_number_too_large_for_a_float_is_a_config_error() -> None:
    assert _refused(ModelConfig.from_yaml, (DATA / "overflow.yaml").read_text()).startswith(
        "config.input.scale:"
    )
    message = _refused(ModelConfig.from_dict, {"input": {"scale": 10**400}})
    assert message == "config.input.scale: 1000…0 (401 digits) is too large for a number"
    _refused(ModelConfig.from_url, encode_token({"input": {"scale": 10**400}}))


def test_5000_digit_number_is_a_config_error_without_python_advice() -> None:
    message = _refused(ModelConfig.from_yaml, (DATA / "digits.yaml").read_text())
    assert message == "config.num_classes: a 5,000-character number is not a valid value"
    message = _refused(ModelConfig.from_dict, {"num_classes": 10**5000})
    assert "too large" in message and "set_int_max_str_digits" not in message


def test_size_cap_applies_inside_from_yaml_before_parsing() -> None:
    big = "".join(f"k{i}: {i}\n" for i in range(1_400_000))  # 20 MB
    assert (
        _refused(ModelConfig.from_yaml, big, within_s=0.5)
        == "config text is larger than 256 KiB; is it a config?"
    )
    _refused(ModelConfig.from_yaml, "x" * (MAX_YAML_BYTES - 10) + "é" * 10)  # bytes, not characters


def test_messages_quote_a_short_excerpt_only() -> None:
    message = _refused(ModelConfig.from_yaml, "num_classes: '" + "x" * 200_000 + "'\n")
    assert message.startswith("config.num_classes: expected an integer, got 'xxx")
    message = _refused(ModelConfig.from_yaml, "head: {widths: [" + ", ".join(["8"] * 999 + ["0"]) + "]}\n")
    assert (
        message == "head.widths: 1,000 layers; at most 12"
    )  # the length is checked before values are listed
    assert len(_refused(ModelConfig.from_dict, {"block": {"order": "conv-" * 50_000}})) < 300
    assert "more than" in _refused(ModelConfig.from_dict, {"head": {"widths": [8] * (MAX_NODES + 1)}})


def test_did_you_mean_only_for_short_strings() -> None:
    assert "did you mean 'classify'" in _refused(ModelConfig.from_dict, {"task": "clasify"})
    message = _refused(ModelConfig.from_dict, {"task": ["localize"] * 1000})
    assert message.startswith("config.task: expected one of 'localize', 'classify', got a list of 1,000")
    assert "did you mean" not in _refused(ModelConfig.from_dict, {"task": "c" * 100_000})


@pytest.mark.parametrize(
    "value",
    [
        "x" * 10**6,
        list(range(10**5)),
        {i: i for i in range(10**4)},
        10**5000,
        -(10**300),
        "\u202e\x00\n",
        _nested(5000),
    ],
    ids=["long-str", "long-list", "big-dict", "5001-digits", "301-digits", "controls", "deep"],
)
def test_short_repr_is_bounded_and_escaped(value: object) -> None:
    text = short_repr(value)
    assert len(text) <= 80 and text.isprintable()


@pytest.mark.parametrize(
    "text",
    [
        "name: &a x\nb: *a",
        "? [a, b]\n: 1",
        "!!python/object/apply:os.system ['true']",
        "when: 2020-02-30",
        "a: \x00",
        "x: !<" + "t" * 5000 + "> 1",
        "[" * 100_000,
        "- " * 50_000,
    ],
)
def test_malformed_yaml_is_a_short_config_error(text: str) -> None:
    _refused(ModelConfig.from_yaml, text)


def test_text_that_is_not_utf8_is_refused() -> None:
    assert "not valid UTF-8" in _refused(config_from_text, "name: \ud800")
    assert "not valid UTF-8" in _refused(ModelConfig.from_yaml, "\udfff")


# --------------------------------------------------------------------------- v1. strings
def test_v1_decompression_stops_at_the_limit() -> None:
    bomb = _token(b" " * 50_000_000)  # 50 MB of spaces in ~65 kB of text
    assert len(bomb) < MAX_YAML_BYTES
    assert "unpacks to more than 256 KiB" in _refused(decode_token, bomb, within_s=0.5)


@pytest.mark.parametrize(
    "text",
    [
        "v1.",
        "v1.!!!!",
        "v1.eJwrSS0uAQAEXQHB",
        "v1." + "A" * 1001,
        _token(b"\xff\xfe"),
        _token(b'{"a": 1')[:-4],
        _token(b"[1]"),
        _token(b'{"num_classes": ' + b"9" * 5000 + b"}"),
    ],
)
def test_damaged_v1_strings_say_so_without_decoder_internals(text: str) -> None:
    message = _refused(config_from_text, text)
    for internal in ("zlib", "Error -", "codec", "Expecting", "padding", "int_max_str_digits"):
        assert internal not in message


def test_v1_round_trip() -> None:
    cfg = idfy.load_preset("full")
    assert config_from_text(cfg.to_url()) == cfg
    assert ModelConfig.from_dict(decode_token(cfg.to_url())) == cfg


# --------------------------------------------------------------------------- paths (traversal)
def test_network_text_never_names_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text('num_classes: "s3cr3t-from-a-file"\n')
    answers = {}
    for text in [
        "/etc/passwd",
        str(secret),
        str(tmp_path / "missing.yaml"),
        "/proc/self/status",
        "../README.md",
    ]:
        message = _refused(config_from_text, text)
        assert "s3cr3t" not in message and "root:" not in message
        answers[text] = message.replace(short_repr(text), "NAME")
    assert len(set(answers.values())) == 1  # existing and missing files answer alike
    assert next(iter(answers.values())).startswith("unknown preset NAME. Presets: ")
    for text in [f"file:{secret}", "file:/etc/passwd"]:
        assert "file paths are not accepted here" in _refused(config_from_text, text)
    with pytest.raises(ConfigError, match="file paths are not accepted"):
        resolve_config(secret, allow_paths=False)


def test_network_text_does_not_touch_the_file_system(monkeypatch: pytest.MonkeyPatch) -> None:
    import idfy.config_io

    def forbidden(*args: object, **kwargs: object) -> str:
        raise AssertionError("a network reference opened a file")

    monkeypatch.setattr(idfy.config_io, "read_config_file", forbidden)
    monkeypatch.setattr("idfy.presets.read_config_file", forbidden)
    for text in ["/etc/passwd", "x.yaml", "file:/etc/passwd", "./presets/tiny.yaml", "C:/x.yml"]:
        with pytest.raises(ConfigError):
            config_from_text(text)


def test_each_kind_of_reference_resolves(tmp_path: Path) -> None:
    cfg = idfy.load_preset("tiny").replace(name="mine")
    path = tmp_path / "mine.yaml"
    path.write_text(cfg.to_yaml())
    assert resolve_config("tiny") == idfy.load_preset("tiny")
    assert resolve_config(cfg.to_yaml()) == cfg == resolve_config(cfg.to_url()) == resolve_config(cfg)
    assert resolve_config(path, allow_paths=True) == cfg
    assert resolve_config(f"file:{path}", allow_paths=True) == cfg
    assert resolve_config(str(path), allow_paths=True) == cfg
    assert set(list_presets()) >= {"full", "seed_model1", "seed_model2", "small", "tiny"}


def test_file_reads_stop_at_the_cap_even_when_stat_says_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("#" * (MAX_YAML_BYTES + 1000))
    real_stat = Path.stat

    def zero_size(self: Path, **kwargs: object):  # how /proc files look
        st = real_stat(self, **kwargs)
        return type(st)((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid, st.st_gid, 0, *st[7:10]))

    monkeypatch.setattr(Path, "stat", zero_size)
    assert "larger than 256 KiB" in _refused(read_config_file, big)


def test_file_errors_name_the_file_never_its_content(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"name: caf\xe9\n")
    assert "not UTF-8 text" in _refused(read_config_file, bad)
    assert "is not a regular file" in _refused(read_config_file, tmp_path)
    assert "does not exist" in _refused(idfy.load_preset, tmp_path / "missing.yaml")


def test_cli_summary_still_takes_a_yaml_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(idfy.load_preset("tiny").replace(name="mine", description="my design").to_yaml())
    assert main(["summary", str(path), "--device", "cpu"]) == 0
    assert "my design" in capsys.readouterr().out
    assert main(["summary", "/etc/passwd"]) == 2  # no .yaml suffix and no file: prefix: a name
    err = capsys.readouterr().err
    assert err.startswith("error: unknown preset '/etc/passwd'") and "root:" not in err
    assert main(["summary", str(DATA / "alias_bomb.yaml")]) == 2
    assert "anchors and aliases" in capsys.readouterr().err


def test_name_and_description_lengths_are_bounded() -> None:
    assert _refused(ModelConfig.from_dict, {"name": "n" * 101}) == "name: 101 characters; at most 100"
    assert "at most 2000" in _refused(ModelConfig.from_yaml, "description: '" + "d" * 100_000 + "'")
    assert all(len(idfy.load_preset(n).description) <= 2000 for n in list_presets())
