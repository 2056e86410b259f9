"""The stats command: Morpho-MNIST's measures on shapes with known answers, per-class sums, the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from generator.cli import main
from generator.evaluation import stats
from generator.repository.export import load_data
from tests.conftest import TINY, assert_one_line_error, run_cli

# Shapes are drawn this many times larger, then shrunk to 28x28 by area, so their edges are
# anti-aliased as a rendered glyph's are.
_FINE = 8


def rectangle(left: int, top: int, width: int, height: int) -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[top : top + height, left : left + width] = 255
    return image


def sheared_bar(degrees: float, width: float = 3, height: float = 20) -> np.ndarray:
    """A bar ``width`` px wide (horizontally) and ``height`` tall, its top leaning right by ``degrees``."""
    lean = math.tan(math.radians(degrees)) * height / 2
    top, bottom, centre = 14 - height / 2, 14 + height / 2, 14.0
    corners = [
        (centre + lean - width / 2, top),
        (centre + lean + width / 2, top),
        (centre - lean + width / 2, bottom),
        (centre - lean - width / 2, bottom),
    ]
    return _shrink(corners)


def band(degrees: float, length: float, thickness: float) -> np.ndarray:
    """A straight stroke with square ends through the frame's centre, ``degrees`` clockwise from horizontal."""
    along = np.array([math.cos(math.radians(degrees)), math.sin(math.radians(degrees))])
    across = np.array([-along[1], along[0]])
    ends = [14 + along * length / 2, 14 - along * length / 2]
    corners = [ends[0] + across * thickness / 2, ends[0] - across * thickness / 2]
    corners += [ends[1] - across * thickness / 2, ends[1] + across * thickness / 2]
    return _shrink(corners)


def _shrink(corners: list) -> np.ndarray:
    fine = np.zeros((28 * _FINE, 28 * _FINE), np.uint8)
    cv2.fillConvexPoly(fine, np.round(np.array(corners) * _FINE).astype(np.int32), 255)
    return cv2.resize(fine, (28, 28), interpolation=cv2.INTER_AREA)


def one(values: dict[str, np.ndarray]) -> dict[str, float]:
    return {key: float(array[0]) for key, array in values.items()}


def run_stdout(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


# --- the measures ------------------------------------------------------------------------------------------------


def test_vertical_bar_is_as_thick_as_it_is_wide_and_upright():
    measured = one(stats.measure(rectangle(12, 4, 4, 20)))
    assert measured["thickness"] == pytest.approx(4, abs=0.05)
    assert measured["slant"] == pytest.approx(0, abs=0.1)
    assert measured["width"] == pytest.approx(4, abs=0.05)
    assert measured["height"] == pytest.approx(20, abs=0.05)
    assert measured["area"] == pytest.approx(80, rel=0.01)
    # A skeleton stops about half a stroke short of each end.
    assert 20 - 4 - 1 <= measured["length"] <= 20


@pytest.mark.parametrize(("left", "top", "width", "height"), [(9, 6, 10, 16), (5, 11, 18, 6), (12, 12, 3, 5)])
def test_rectangle_width_height_area_and_thickness(left: int, top: int, width: int, height: int):
    measured = one(stats.measure(rectangle(left, top, width, height)))
    assert measured["width"] == pytest.approx(width, abs=0.05)
    assert measured["height"] == pytest.approx(height, abs=0.05)
    assert measured["area"] == pytest.approx(width * height, rel=0.02, abs=0.25)
    assert measured["slant"] == pytest.approx(0, abs=0.1)
    assert measured["thickness"] == pytest.approx(min(width, height), rel=0.1, abs=0.25)


@pytest.mark.parametrize("degrees", [-25.0, -10.0, 15.0, 30.0])
def test_sheared_bar_slant_is_the_shear_angle(degrees: float):
    measured = one(stats.measure(sheared_bar(degrees)))
    assert measured["slant"] == pytest.approx(degrees, abs=1.5), "positive leans right"
    assert measured["width"] == pytest.approx(3, abs=0.6), "the width once the shear is undone"
    assert measured["height"] == pytest.approx(20, abs=0.5)
    # The stroke is 3 px wide across the rows, so 3 cos(angle) across the stroke itself.
    assert measured["thickness"] == pytest.approx(3 * math.cos(math.radians(degrees)), abs=0.3)


def test_slant_is_invariant_to_stroke_grey_levels_above_threshold():
    bar = sheared_bar(20, width=4)
    dimmer = np.where(bar >= 200, 200, bar).astype(np.uint8)
    assert one(stats.measure(dimmer))["slant"] == pytest.approx(one(stats.measure(bar))["slant"], abs=1.0)


@pytest.mark.parametrize("degrees", [0.0, 30.0, 45.0, 70.0, 90.0])
def test_a_stroke_has_its_length_and_thickness_at_any_angle(degrees: float):
    measured = one(stats.measure(band(degrees, length=18, thickness=2.5)))
    # A skeleton stops about half a stroke short of each end.
    assert 18 - 2.5 - 0.5 <= measured["length"] <= 18
    assert measured["thickness"] == pytest.approx(2.5, abs=0.3)
    assert measured["area"] == pytest.approx(18 * 2.5, rel=0.1)


def test_skeleton_length_counts_sides_and_corners_once():
    line = np.zeros((5, 14), bool)
    line[2, 2:12] = True
    assert stats.skeleton_length(line) == pytest.approx(9)
    diagonal = np.zeros((14, 14), bool)
    diagonal[np.arange(2, 12), np.arange(2, 12)] = True
    assert stats.skeleton_length(diagonal) == pytest.approx(9 * math.sqrt(2))
    corner = np.zeros((5, 5), bool)
    corner[1, 1] = corner[1, 2] = corner[2, 2] = True  # an L: two sides, not also the diagonal
    assert stats.skeleton_length(corner) == pytest.approx(2)


def test_measures_are_in_the_frame_units_whatever_the_upsampling():
    bar = rectangle(12, 4, 4, 20)
    for scale in (2, 4, 6):
        measured = one(stats.measure(bar, scale=scale))
        assert measured["thickness"] == pytest.approx(4, abs=0.3)
        assert measured["height"] == pytest.approx(20, abs=0.3)


def test_an_image_without_ink_measures_nan():
    measured = stats.measure(np.stack([np.zeros((28, 28), np.uint8), rectangle(12, 4, 4, 20)]))
    for values in measured.values():
        assert math.isnan(values[0])
        assert not math.isnan(values[1])


def test_batches_measure_as_single_images(monkeypatch: pytest.MonkeyPatch):
    images = np.stack([sheared_bar(angle, width=2 + angle % 3) for angle in range(-30, 31, 5)])
    single = [stats.measure(image) for image in images]
    monkeypatch.setattr(stats, "_BATCH", 4)  # several batches, the last one short
    batched = stats.measure(images)
    for key, values in batched.items():
        np.testing.assert_allclose(values, [result[key][0] for result in single])


def test_upsampling_matrix_matches_opencv_bilinear():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (28, 28)).astype(np.float32)
    matrix = stats.upsampling_matrix(28, 4)
    expected = cv2.resize(image, (112, 112), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(matrix @ image @ matrix.T, expected, atol=1e-3)


# --- per class ---------------------------------------------------------------------------------------------------


def test_summarise_aggregates_per_class_and_overall():
    images = np.stack([rectangle(12, 4, 2, 20), rectangle(12, 4, 4, 20), rectangle(9, 6, 10, 16)])
    labels = np.array([0, 0, 1])
    summary = stats.summarise(images, labels, num_classes=3)
    measured = stats.measure(images)
    thickness = [key for key, _, _ in stats.MEASURES].index("thickness")
    assert summary.examples.tolist() == [2, 1, 0]
    assert summary.total == 3
    assert summary.means[0, thickness] == pytest.approx(measured["thickness"][:2].mean())
    assert summary.stds[0, thickness] == pytest.approx(measured["thickness"][:2].std())
    assert summary.means[0, thickness] == pytest.approx(3, abs=0.1)
    assert summary.stds[1, thickness] == 0
    assert np.isnan(summary.means[2]).all(), "a class without images has no measures"
    assert summary.overall_mean[thickness] == pytest.approx(measured["thickness"].mean())
    np.testing.assert_allclose(summary.mean_images[0], images[:2].mean(axis=0))
    np.testing.assert_allclose(summary.std_images[0], images[:2].std(axis=0))
    assert summary.spread[0] == pytest.approx(images[:2].astype(float).std(axis=0).mean())
    assert summary.spread[1] == 0
    assert np.isnan(summary.spread[2])
    assert summary.overall_spread == pytest.approx(images.astype(float).std(axis=0).mean())


def test_table_shows_gaps_as_real_minus_generated():
    generated = stats.summarise(np.stack([rectangle(12, 4, 2, 20)] * 2), np.array([0, 1]), 2)
    real = stats.summarise(np.stack([rectangle(12, 4, 4, 20)]), np.array([0]), 2)
    table = stats.format_table("toy", "train", ["a", "b"], generated, real)
    lines = table.splitlines()
    difference = lines[lines.index(next(line for line in lines if line.startswith("a "))) + 2]
    assert difference.split()[:2] == ["difference", "+2.00"], "thickness: 4 real - 2 generated"
    row_b_real = lines[lines.index(next(line for line in lines if line.startswith("b "))) + 1]
    assert row_b_real.split()[:3] == ["real", "0", "-"], "no real images of class b"
    assert "thickness px: class a +2.00" in table


# --- the command -------------------------------------------------------------------------------------------------


def write_npz(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    np.savez(path, x=x, y=y)
    return path


def test_stats_command_prints_a_table_and_writes_nothing_without_out(capsys, tiny_build: Path, tmp_path: Path):
    before = sorted(p.name for p in tiny_build.rglob("*"))
    code, out = run_stdout(capsys, "stats", "vai", "--from", str(tiny_build))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"vai, train split: {TINY['train_size']} generated images")
    assert lines[1].split()[:4] == ["class", "set", "n", "thickness"]
    rows = [line.split() for line in lines[2:]]
    assert [row[0] for row in rows] == [str(name) for name in range(10)] + ["all"]
    assert rows[-1][1:3] == ["generated", str(TINY["train_size"])]
    assert sorted(p.name for p in tiny_build.rglob("*")) == before


def test_stats_command_writes_json_and_png(capsys, tiny_build: Path, tmp_path: Path):
    code, out = run_stdout(capsys, "stats", "nko", "--from", str(tiny_build), "--split", "test", "--out", str(tmp_path))
    assert code == 0
    json_path, png_path = stats.output_paths("nko", tmp_path)
    assert out.splitlines()[-2:] == [str(json_path), str(png_path)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([json_path.name, png_path.name]), "no temporaries"
    results = json.loads(json_path.read_text(encoding="utf-8"))
    assert results["split"] == "test"
    assert results["real"] is None
    assert results["generated"]["examples"] == TINY["test_size"]
    per_class = results["generated"]["per_class"]
    assert list(per_class) == results["class_names"]
    assert sum(entry["examples"] for entry in per_class.values()) == TINY["test_size"]
    for entry in [*per_class.values(), results["generated"]["overall"]]:
        for key, _, _ in stats.MEASURES:
            assert entry[key]["mean"] > 0 or key == "slant"
            assert entry[key]["std"] >= 0
        assert entry["spread"] > 0
    (_, _), (x_test, y_test) = load_data("nko", tiny_build)
    mean = np.array(results["images"]["generated"][results["class_names"][0]]["mean"])
    np.testing.assert_allclose(mean, x_test[y_test == 0].mean(axis=0), atol=0.01)
    with Image.open(png_path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 10 * 28 * 3, "a column per class"


def test_stats_command_sets_real_digits_beside_generated(capsys, tiny_build: Path, tmp_path: Path):
    (_, _), (x_test, y_test) = load_data("vai", tiny_build)
    keep = y_test != 9  # the real set lacks the last class
    real = write_npz(tmp_path / "real.npz", 255 - x_test[keep], y_test[keep])  # dark ink on paper, as scans are
    out = tmp_path / "out"
    code, printed = run_stdout(
        capsys, "stats", "vai", "--from", str(tiny_build), "--real", str(real), "--out", str(out)
    )
    assert code == 0
    assert f"{int(keep.sum())} real images; difference = real - generated" in printed.splitlines()[0]
    first_rows = [line.split() for line in printed.splitlines()[2:5]]
    assert [first_rows[0][1], first_rows[1][0], first_rows[2][0]] == ["generated", "real", "difference"]
    assert "largest per-class gaps (real - generated):" in printed
    results = json.loads(stats.output_paths("vai", out)[0].read_text(encoding="utf-8"))
    assert results["real"]["examples"] == int(keep.sum())
    assert results["real"]["source"] == str(real)
    last = results["class_names"][-1]
    assert results["real"]["per_class"][last]["examples"] == 0
    assert results["real"]["per_class"][last]["thickness"] == {"mean": None, "std": None}
    assert results["difference"]["per_class"][last]["thickness"] is None
    first = results["class_names"][0]
    gap = results["difference"]["per_class"][first]
    real_width, generated_width = (results[side]["per_class"][first]["width"]["mean"] for side in ("real", "generated"))
    assert gap["width"] == pytest.approx(real_width - generated_width)
    assert gap["mean_image_abs_difference"] >= 0
    assert results["images"]["real"][last] == {"mean": None, "std": None}


def test_stats_overwrite_replaces_outputs(capsys, tiny_build: Path, tmp_path: Path):
    json_path, _ = stats.output_paths("vai", tmp_path)
    json_path.write_text("old", encoding="utf-8")
    code, _ = run_stdout(capsys, "stats", "vai", "--from", str(tiny_build), "--out", str(tmp_path), "--overwrite")
    assert code == 0
    assert json.loads(json_path.read_text(encoding="utf-8"))["config"] == "vai"


# --- bad input ---------------------------------------------------------------------------------------------------


def test_stats_refuses_an_unknown_config_or_build(capsys, tiny_build: Path, tmp_path: Path):
    assert_one_line_error(*run_cli(capsys, "stats", "klingon", "--from", str(tiny_build)), "'klingon'", "vai")
    missing = tmp_path / "nowhere"
    assert_one_line_error(*run_cli(capsys, "stats", "vai", "--from", str(missing)), str(missing), "generate")


def test_stats_refuses_a_bad_split(capsys, tiny_build: Path):
    assert_one_line_error(*run_cli(capsys, "stats", "vai", "--from", str(tiny_build), "--split", "dev"), "dev")
    with pytest.raises(stats.InputError, match="'dev'"):
        stats.run_stats("vai", tiny_build, split="dev")


def test_stats_refuses_bad_real_digits(capsys, tiny_build: Path, tmp_path: Path):
    base = ("stats", "vai", "--from", str(tiny_build), "--real")
    missing = tmp_path / "missing.npz"
    assert_one_line_error(*run_cli(capsys, *base, str(missing)), str(missing), "does not exist")
    text = tmp_path / "digits.txt"
    text.write_text("1 2 3", encoding="utf-8")
    assert_one_line_error(*run_cli(capsys, *base, str(text)), str(text), ".npz")
    no_labels = tmp_path / "x-only.npz"
    np.savez(no_labels, x=np.zeros((2, 28, 28), np.uint8))
    assert_one_line_error(*run_cli(capsys, *base, str(no_labels)), str(no_labels), "y")
    out_of_range = write_npz(tmp_path / "labels.npz", np.full((2, 28, 28), 255, np.uint8), np.array([0, 10]))
    assert_one_line_error(*run_cli(capsys, *base, str(out_of_range)), str(out_of_range), "0..9")


def test_stats_never_overwrites_without_overwrite(capsys, tiny_build: Path, tmp_path: Path):
    _, png_path = stats.output_paths("vai", tmp_path)
    png_path.write_bytes(b"mine")
    code, err = run_cli(capsys, "stats", "vai", "--from", str(tiny_build), "--out", str(tmp_path))
    assert_one_line_error(code, err, str(png_path), "--overwrite")
    assert png_path.read_bytes() == b"mine"
    assert not stats.output_paths("vai", tmp_path)[0].exists(), "nothing written when refused"
    a_file = tmp_path / "file"
    a_file.write_text("", encoding="utf-8")
    code, err = run_cli(capsys, "stats", "vai", "--from", str(tiny_build), "--out", str(a_file))
    assert_one_line_error(code, err, str(a_file), "is a file")
