"""The command line: every bad input is one line on stderr, exit status 2, and nothing overwritten."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from generator.cli import TINY_ENV, build_parser
from generator.evaluation.preview import preview_grid, row_labels
from generator.registry import builtin_systems
from tests.conftest import PROJECT_DIR, assert_one_line_error, font_without, run_cli, write_spec


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def test_generate_and_preview(capsys, tmp_path: Path, out: Path):
    code, _ = run_cli(
        capsys,
        "generate",
        "--configs",
        "osmanya",
        "--out",
        str(out),
        "--train-size",
        "20",
        "--test-size",
        "10",
        "--workers",
        "1",
    )
    assert code == 0
    assert (out / "osmanya" / "metadata.json").is_file()
    png = tmp_path / "preview.png"
    code, _ = run_cli(capsys, "preview", "geez", "--out", str(png), "--samples-per-class", "3")
    assert code == 0
    with Image.open(png) as image:
        width, height = image.size
    assert width > height / 2 > 0


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--configs", "klingon"], ["'klingon'", "--spec"]),
        (["--train-size", "0"], ["--train-size 0"]),
        (["--train-size", "-10"], ["--train-size -10"]),
        (["--test-size", "15"], ["--test-size 15", "multiple of 10"]),
        (["--train-size", "many"], ["'many'"]),
        (["--workers", "0"], ["--workers 0"]),
        (["--seed", "-1"], ["--seed -1"]),
        (["--spec", "/nonexistent/spec.toml"], ["/nonexistent/spec.toml"]),
    ],
)
def test_bad_generate_input(capsys, out: Path, argv, needles):
    code, err = run_cli(capsys, "generate", "--out", str(out), "--test-size", "10", "--train-size", "20", *argv)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_bad_spec_font_is_named(capsys, tmp_path: Path, out: Path, vai):
    spec = write_spec(tmp_path / "spec", vai, "broken")
    (tmp_path / "spec" / vai.fonts[0].name).unlink()
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(out))
    assert_one_line_error(code, err, vai.fonts[0].name, "does not exist")
    assert not out.exists()


def test_font_lacking_a_code_point_is_named(capsys, tmp_path: Path, out: Path, vai):
    spec = write_spec(tmp_path / "spec", vai, "gappy")
    font = tmp_path / "spec" / vai.fonts[1].name
    font_without(font, font, vai.code_points[3])
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(out))
    assert_one_line_error(code, err, str(font), "U+A623")
    assert not out.exists()


def test_malformed_spec_is_named(capsys, tmp_path: Path, out: Path, vai):
    spec = write_spec(tmp_path, vai, "broken", code_points=["U+A620", "nope"])
    code, err = run_cli(capsys, "generate", "--spec", str(spec), "--out", str(out))
    assert_one_line_error(code, err, "'nope'", str(spec))


def test_existing_output_without_overwrite(capsys, out: Path):
    args = [
        "generate",
        "--configs",
        "vai",
        "nko",
        "--out",
        str(out),
        "--train-size",
        "20",
        "--test-size",
        "10",
        "--workers",
        "1",
    ]
    (out / "nko").mkdir(parents=True)
    (out / "nko" / "mine.txt").write_text("keep me")
    code, err = run_cli(capsys, *args)
    assert_one_line_error(code, err, str(out / "nko"), "--overwrite")
    assert (out / "nko" / "mine.txt").read_text() == "keep me"
    assert not (out / "vai").exists(), "nothing is generated when any output is refused"


def test_preview_refuses_existing_file(capsys, tmp_path: Path):
    png = tmp_path / "p.png"
    png.write_bytes(b"mine")
    code, err = run_cli(capsys, "preview", "vai", "--out", str(png))
    assert_one_line_error(code, err, str(png), "--overwrite")
    assert png.read_bytes() == b"mine"


def test_missing_subcommand_is_one_line(capsys):
    code, err = run_cli(capsys)
    assert_one_line_error(code, err, "--help")


def test_generate_prints_one_line_per_config_and_split_in_a_log(capsys, out: Path):
    argv = ["generate", "--configs", "vai", "nko", "--out", str(out), "--train-size", "20", "--test-size", "10"]
    code, err = run_cli(capsys, *argv, "--workers", "1")  # pytest's captured stderr is not a terminal
    assert code == 0
    lines = [line for line in err.splitlines() if " images in " in line]
    expected = [("vai", "train", 20), ("vai", "test", 10), ("nko", "train", 20), ("nko", "test", 10)]
    assert len(lines) == len(expected)
    for line, (config, split, count) in zip(lines, expected, strict=True):
        assert re.fullmatch(rf"{config} {split}: {count} of {count} images in [\d.]+ s \([\d,]+ images/s\)", line)


def test_a_log_gets_a_line_every_tenth_of_a_split(capsys, tmp_path: Path, vai):
    from generator.generate import GenerateSettings, generate

    settings = GenerateSettings(train_size=100, test_size=20, workers=1, chunk_size=10, rows_per_shard=50)
    generate([vai], tmp_path / "out", settings)  # pytest's captured stderr is not a terminal: no bar, lines
    lines = [line for line in capsys.readouterr().err.splitlines() if " images in " in line]
    done = [int(re.match(r"vai (train|test): (\d+) of", line)[2]) for line in lines]
    assert done == [*range(10, 101, 10), 10, 20], lines


def test_the_sanitation_summary_is_said_in_words(capsys, tmp_path: Path):
    code, err = run_cli(capsys, "generate", "--configs", "vai", "--out", str(tmp_path / "out"), "--train-size",
                        "20", "--test-size", "10", "--workers", "1")  # fmt: skip
    assert code == 0, err
    (train,) = [line for line in err.splitlines() if line.startswith("vai train: ") and "drawn again" in line]
    assert re.fullmatch(
        r"vai train: \d+ draws were thrown away and drawn again, [\d.]+% as many as the split's 20 images "
        r"\(\d+ had lost the numeral's shape \(a hole or a piece too many or too few\); \d+ were blots of ink\)"
        r"(; \d+ images still failed after \d+ new draws and were kept as last drawn)?",
        train,
    ), train


def test_every_command_has_a_description_examples_and_help_on_each_argument(capsys):
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    for name, command in commands.items():
        assert command.description, name
        if name != "figures":
            assert "examples:" in (command.epilog or ""), name
        for action in command._actions:
            if action.dest not in ("help", "collect_command"):
                assert action.help, f"{name} {action.dest}"
    help_text = commands["generate"].format_help()
    assert "images in train (default: 60,000)" in help_text or "(default: 60)" in help_text
    assert "images in test (default:" in help_text


def test_a_bare_collect_names_its_subcommands_not_an_internal_name(capsys):
    code, err = run_cli(capsys, "collect")
    assert_one_line_error(code, err, "serve|review|export")
    assert "collect_command" not in err


def test_a_spec_config_in_the_default_repository_gets_a_note(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = str(PROJECT_DIR / "examples" / "tamil" / "spec.toml")
    argv = ["generate", "--spec", spec, "--configs", "tamil", "--train-size", "10", "--test-size", "10"]
    code, err = run_cli(capsys, *argv, "--workers", "1")
    assert code == 0
    assert "note: tamil (from a spec file) is now in build/afro_mnist" in err
    assert "push with --configs geez vai osmanya nko" in err
    code, err = run_cli(capsys, *argv, "--workers", "1", "--out", "build/tamil")
    assert code == 0
    assert "note:" not in err, "a folder of its own is no repository a push would publish by default"


def test_tiny_defaults_are_for_the_readme_test_only(monkeypatch):
    monkeypatch.delenv(TINY_ENV, raising=False)
    parsed = build_parser().parse_args(["generate"])
    assert (parsed.train_size, parsed.test_size) == (60_000, 10_000)
    monkeypatch.setenv(TINY_ENV, "1")
    parsed = build_parser().parse_args(["generate"])
    assert (parsed.train_size, parsed.test_size, parsed.workers) == (60, 20, 1)
    assert build_parser().parse_args(["generate", "--train-size", "100"]).train_size == 100, "a flag wins"
    assert build_parser().parse_args(["baseline", "vai"]).epochs == 1


def test_preview_labels_fonts_and_classes(capsys, tmp_path: Path):
    png = tmp_path / "preview.png"
    assert run_cli(capsys, "preview", "vai", "--out", str(png), "--samples-per-class", "2")[0] == 0
    labels, centres = row_labels(builtin_systems()["vai"], 2)
    assert labels == ["Noto Sans Vai", "FreeSans", "Unifont", "samples", ""]
    assert centres == sorted(centres)
    grid = preview_grid(builtin_systems()["vai"], 2)
    with Image.open(png) as image:
        assert image.mode == "RGB"
        assert image.width > 2 * grid.shape[1], "font names sit left of the zoomed grid"
        assert image.height > 2 * grid.shape[0], "a title and class names sit above it"
