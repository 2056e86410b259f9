"""The LeNet-5 baseline and the synthetic-to-real evaluation, on a few hundred images the tests generate."""

from __future__ import annotations

import json
import shutil
import signal
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from generator.cli import main
from generator.errors import InputError
from generator.evaluation import baseline, realdata
from generator.evaluation.baseline import TrainingSettings, run_baseline
from generator.evaluation.realdata import evaluate_real, read_real
from generator.generate import GenerateSettings, generate
from generator.layout import BASELINE_FILE
from generator.registry import builtin_systems
from generator.repository.export import load_data
from generator.synthesis.handwriting import ink_is_dark, prepare_real_image
from generator.synthesis.normalize import mnist_normalize
from tests.conftest import assert_one_line_error, run_cli, run_killed_at_rename

torch = pytest.importorskip("torch")

# Enough for LeNet-5 to learn vai's ten classes well beyond chance in a second or two.
SMALL = {"train_size": 400, "test_size": 100}
QUICK = TrainingSettings(epochs=12, seed=5, batch_size=32)


@pytest.fixture(scope="module")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "afro_mnist"
    generate([builtin_systems()["vai"]], out, GenerateSettings(seed=11, workers=1, progress=False, **SMALL))
    return out


@pytest.fixture(scope="module")
def vai_names() -> list[str]:
    return list(builtin_systems()["vai"].class_names)


# --- the network and its training ---------------------------------------------------------------------------------


def test_lenet5_is_the_papers():
    model = baseline.lenet5(10)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # 156 + 2,416 (convolutions) + 30,840 + 10,164 + 850 (dense): LeNet-5 as in the paper's Table 2.
    assert sum(p.numel() for p in model.parameters()) == 44_426
    kinds = [type(layer).__name__ for layer in model]
    assert kinds[:6] == ["Conv2d", "MaxPool2d", "Tanh", "Conv2d", "MaxPool2d", "Tanh"]


def test_baseline_beats_chance_and_repeats_itself(small_build: Path):
    first = run_baseline("vai", small_build, QUICK)
    assert first["test_accuracy"] >= 0.5, "ten classes: chance is 0.1"
    again = run_baseline("vai", small_build, QUICK, overwrite=True)
    assert again["test_accuracy"] == first["test_accuracy"]
    assert again["per_class_accuracy"] == first["per_class_accuracy"]
    written = json.loads((small_build / "vai" / BASELINE_FILE).read_text())
    for key in ("config", "test_accuracy", "paper_accuracy", "seed", "epochs", "train_examples", "test_examples"):
        assert key in written
    assert written["paper_accuracy"] == 1.0
    assert (written["train_examples"], written["test_examples"]) == (SMALL["train_size"], SMALL["test_size"])
    assert written["torch_version"] == torch.__version__
    assert written["cpu_capability"] == torch.backends.cpu.get_cpu_capability(), "results depend on it"
    assert 0 <= written["test_accuracy"] <= 1


def test_training_is_seeded_and_leaves_torch_as_it_was(small_build: Path):
    (x_train, y_train), (x_test, _) = load_data("vai", small_build)
    settings = TrainingSettings(epochs=1, seed=1, batch_size=64)
    threads, state = torch.get_num_threads(), torch.random.get_rng_state()
    first = baseline.predict(baseline.train(x_train, y_train, 10, settings), x_test)
    assert torch.get_num_threads() == threads
    assert not torch.are_deterministic_algorithms_enabled()
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(baseline.predict(baseline.train(x_train, y_train, 10, settings), x_test), first)
    other = TrainingSettings(epochs=1, seed=2, batch_size=64)
    other_model = baseline.train(x_train, y_train, 10, other)
    assert not torch.equal(other_model[0].weight, baseline.train(x_train, y_train, 10, settings)[0].weight)


def test_confusion_matrix_and_per_class_accuracy():
    matrix = baseline.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    assert baseline.per_class_accuracy(matrix) == [0.5, 1.0, 0.0, None]


# --- the baseline command -----------------------------------------------------------------------------------------


def test_baseline_command_refuses_to_overwrite(capsys, small_build: Path):
    path = small_build / "vai" / BASELINE_FILE
    path.write_text("mine")
    argv = ["baseline", "vai", "--from", str(small_build), "--epochs", "1"]
    assert_one_line_error(*run_cli(capsys, *argv), str(path), "--overwrite")
    assert path.read_text() == "mine"
    code, _ = run_cli(capsys, *argv, "--overwrite")
    assert code == 0
    assert json.loads(path.read_text())["epochs"] == 1


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--epochs", "0"], ["--epochs 0"]),
        (["--batch-size", "0"], ["--batch-size 0"]),
        (["--seed", "-3"], ["--seed -3"]),
        (["--epochs", "few"], ["'few'"]),
    ],
)
def test_bad_baseline_settings(capsys, small_build: Path, argv, needles):
    assert_one_line_error(*run_cli(capsys, "baseline", "vai", "--from", str(small_build), *argv), *needles)


def test_baseline_of_a_missing_config(capsys, tmp_path: Path):
    code, err = run_cli(capsys, "baseline", "nko", "--from", str(tmp_path / "none"))
    assert_one_line_error(code, err, str(tmp_path / "none"), "make dataset")


def test_baseline_command_puts_its_result_in_the_card(capsys, small_build: Path):
    code, _ = run_cli(capsys, "baseline", "vai", "--from", str(small_build), "--overwrite", "--epochs", "1")
    assert code == 0
    accuracy = json.loads((small_build / "vai" / BASELINE_FILE).read_text())["test_accuracy"]
    card = (small_build / "README.md").read_text()
    assert f"| `vai` | {accuracy:.2%} | 100.00% | 1 |" in card


def test_a_killed_baseline_leaves_a_temporary_file_that_the_next_baseline_clears(
    capsys, small_build: Path, tmp_path: Path
):
    build = tmp_path / "build"
    shutil.copytree(small_build / "vai", build / "vai")
    folder = build / "vai"
    (folder / BASELINE_FILE).unlink(missing_ok=True)
    users = folder / ".baseline.json.12345.partial"
    users.write_text("the user's, though named like the tool's")
    argv = ["baseline", "vai", "--from", str(build), "--epochs", "1"]
    process = run_killed_at_rename(".baseline.json.", *argv, timeout=300)  # the results written, not yet in place
    assert process.returncode == -signal.SIGKILL, process.stderr
    leftovers = sorted(path.name for path in folder.glob(".baseline.json.*.partial"))
    assert len(leftovers) == 2, leftovers
    assert not (folder / BASELINE_FILE).exists()

    code, err = run_cli(capsys, *argv)
    assert code == 0, err
    # The killed run's temporary file and its record are gone; the user's file of a like name is not.
    assert sorted(path.name for path in folder.glob(".*")) == [users.name]
    assert users.read_text().startswith("the user's")
    assert json.loads((folder / BASELINE_FILE).read_text())["epochs"] == 1


def test_missing_torch_is_explained(monkeypatch, capsys, small_build: Path):
    monkeypatch.setitem(sys.modules, "torch", None)
    code, err = run_cli(capsys, "baseline", "vai", "--from", str(small_build), "--overwrite")
    assert_one_line_error(code, err, "PyTorch", "afro-mnist[baseline]")


# --- real images --------------------------------------------------------------------------------------------------


def as_scan(image: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A generated digit as if written in dark ink on grey, grainy paper and scanned larger."""
    big = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC).astype(np.float64)
    page = 210 - big * (170 / 255) + rng.normal(0, 5, big.shape)
    return np.pad(np.clip(page, 0, 255), ((12, 4), (3, 15)), constant_values=210).round().astype(np.uint8)


def blurred(image: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(image.astype(np.float64), (0, 0), 1.0)


def correlation(one: np.ndarray, other: np.ndarray) -> float:
    return float(np.corrcoef(one.ravel().astype(float), other.ravel().astype(float))[0, 1])


def test_a_clean_image_is_left_as_it_is(small_build: Path):
    (x_train, _), _ = load_data("vai", small_build)
    for image in x_train[:20]:
        np.testing.assert_array_equal(prepare_real_image(image), image)
        np.testing.assert_array_equal(prepare_real_image(255 - image), image)


def test_a_scan_normalises_like_the_generated_image(small_build: Path):
    (x_train, _), _ = load_data("vai", small_build)
    rng = np.random.default_rng(0)
    for image in x_train[:20]:
        prepared = prepare_real_image(as_scan(image, (112, 112), rng))
        assert prepared.shape == (28, 28)
        assert prepared.dtype == np.uint8
        # Strokes are 1.5-3.5 px wide, so a one-pixel change of the ink's bounding box (a faint edge
        # pixel lost to the paper's noise margin) moves them off each other: compare the shapes blurred.
        assert correlation(blurred(prepared), blurred(mnist_normalize(image))) > 0.85


def test_polarity_follows_the_border():
    page = np.full((40, 40), 230.0)
    page[10:30, 18:22] = 20
    assert ink_is_dark(page)
    assert not ink_is_dark(255 - page)


def write_real_folder(folder: Path, images: np.ndarray, labels: np.ndarray, names: list[str]) -> None:
    """Real-looking files: mixed sizes, formats and polarities, in one subfolder per class."""
    rng = np.random.default_rng(1)
    for index, (image, label) in enumerate(zip(images, labels, strict=True)):
        (folder / names[label]).mkdir(parents=True, exist_ok=True)
        kind = index % 3
        if kind == 0:
            Image.fromarray(image).save(folder / names[label] / f"{index}.png")  # light on dark, 28x28
        elif kind == 1:
            Image.fromarray(as_scan(image, (84, 84), rng)).save(folder / names[label] / f"{index}.jpg", quality=95)
        else:
            rgb = np.repeat((255 - cv2.resize(image, (40, 40)))[..., None], 3, axis=2)
            Image.fromarray(rgb).save(folder / names[label] / f"{index}.bmp")  # dark on white, colour


def test_evaluate_real_on_a_folder(small_build: Path, tmp_path: Path, vai_names: list[str]):
    _, (x_test, y_test) = load_data("vai", small_build)
    write_real_folder(tmp_path / "real", x_test[:30], y_test[:30], vai_names)
    (tmp_path / "real" / vai_names[0] / ".DS_Store").write_bytes(b"\0")
    results = evaluate_real("vai", tmp_path / "real", tmp_path / "out", small_build, QUICK)
    assert results["real_examples"] == 30
    assert results["real_accuracy"] >= 0.5
    assert list(results["per_class"]) == vai_names
    assert sum(entry["examples"] for entry in results["per_class"].values()) == 30
    assert np.array(results["confusion_matrix"]).sum() == 30
    assert results["paper_real_accuracy"] is None
    json_path, png_path = realdata.output_paths("vai", tmp_path / "out")
    assert json.loads(json_path.read_text()) == results
    with Image.open(png_path) as confusion:
        assert confusion.format == "PNG"
        assert min(confusion.size) > 10 * 40


def test_evaluate_real_command_on_an_npz(capsys, small_build: Path, tmp_path: Path):
    _, (x_test, y_test) = load_data("vai", small_build)
    np.savez(tmp_path / "real.npz", x=255 - x_test[:20], y=y_test[:20].astype(np.uint8))
    argv = ["evaluate-real", "vai", "--real", str(tmp_path / "real.npz"), "--from", str(small_build)]
    argv += ["--out", str(tmp_path / "out"), "--epochs", "2"]
    assert main(argv) == 0
    printed = capsys.readouterr().out.splitlines()
    results = json.loads((tmp_path / "out" / "vai-real.json").read_text())
    assert results["real_examples"] == 20
    assert printed[1].split() == ["class", "images", "accuracy"]
    for line, (name, result) in zip(printed[2:12], results["per_class"].items(), strict=True):
        accuracy = [] if result["accuracy"] is None else [f"{result['accuracy']:.2%}"]
        assert line.split() == [name, str(result["examples"]), *accuracy], "each class's accuracy is printed"
    assert_one_line_error(*run_cli(capsys, *argv), "vai-real.json", "--overwrite")


def test_npz_and_folder_read_the_same_images(small_build: Path, tmp_path: Path, vai_names: list[str]):
    _, (x_test, y_test) = load_data("vai", small_build)
    np.savez(tmp_path / "real.npz", x=x_test[:10], y=y_test[:10])
    for index, (image, label) in enumerate(zip(x_test[:10], y_test[:10], strict=True)):
        (tmp_path / "real" / vai_names[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(tmp_path / "real" / vai_names[label] / f"{index:02d}.png")
    from_npz = read_real(tmp_path / "real.npz", vai_names)
    from_folder = read_real(tmp_path / "real", vai_names)
    order = np.argsort([Path(source).parent.name + Path(source).name for source in from_folder.sources])
    assert sorted(from_npz.labels.tolist()) == sorted(from_folder.labels.tolist())
    np.testing.assert_array_equal(from_npz.images, x_test[:10])
    assert from_folder.images[order].shape == (10, 28, 28)


# --- every bad input of evaluate-real -----------------------------------------------------------------------------


@pytest.fixture
def real_folder(tmp_path: Path, small_build: Path, vai_names: list[str]) -> Path:
    _, (x_test, y_test) = load_data("vai", small_build)
    write_real_folder(tmp_path / "real", x_test[:10], y_test[:10], vai_names)
    return tmp_path / "real"


def blank_png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (30, 30), 255).save(path)


def put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("damage", "needles"),
    [
        (lambda real: (real / "ten").mkdir(), ["ten", "'ten' is not a class", "0, 1, 2"]),
        (lambda real: (real / "notes.txt").write_text("hi"), ["notes.txt", "is not a class folder"]),
        (lambda real: put(real / "3" / "broken.png", b"not an image"), ["broken.png", "Pillow"]),
        (lambda real: blank_png(real / "5" / "blank.png"), ["blank.png", "no ink"]),
    ],
    ids=["unknown class", "stray file", "unreadable image", "blank image"],
)
def test_bad_real_folder(real_folder: Path, vai_names: list[str], damage, needles):
    damage(real_folder)
    with pytest.raises(InputError) as raised:
        read_real(real_folder, vai_names)
    for needle in needles:
        assert needle in str(raised.value)


def test_empty_class_folder(real_folder: Path, vai_names: list[str]):
    (real_folder / "7" / "writer-a").mkdir(parents=True, exist_ok=True)
    for file in (real_folder / "7").rglob("*.*"):
        file.unlink()
    with pytest.raises(InputError, match=r"class folder .*7 holds no images"):
        read_real(real_folder, vai_names)


def test_missing_and_odd_real_paths(tmp_path: Path, vai_names: list[str]):
    with pytest.raises(InputError, match="does not exist"):
        read_real(tmp_path / "nowhere", vai_names)
    (tmp_path / "digits.csv").write_text("1,2")
    with pytest.raises(InputError, match=r"neither a folder nor an \.npz"):
        read_real(tmp_path / "digits.csv", vai_names)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="is empty"):
        read_real(tmp_path / "empty", vai_names)


@pytest.mark.parametrize(
    ("arrays", "needle"),
    [
        ({"x": np.zeros((2, 28, 28), np.uint8)}, "lacks the array(s) y"),
        ({"x": np.zeros((2, 28, 28), np.float32), "y": np.zeros(2, int)}, "x is float32"),
        ({"x": np.zeros((2, 784), np.uint8), "y": np.zeros(2, int)}, "(N, H, W)"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": np.zeros(3, int)}, "must hold 2 integer class indices"),
        ({"x": np.zeros((2, 28, 28), np.uint8), "y": np.array([0, 10])}, "labels 0..10"),
    ],
)
def test_bad_real_npz(tmp_path: Path, vai_names: list[str], arrays, needle):
    np.savez(tmp_path / "real.npz", **arrays)
    with pytest.raises(InputError) as raised:
        read_real(tmp_path / "real.npz", vai_names)
    assert needle in str(raised.value)
    assert str(tmp_path / "real.npz") in str(raised.value)


def test_unreadable_npz(tmp_path: Path, vai_names: list[str]):
    (tmp_path / "real.npz").write_bytes(b"garbage")
    with pytest.raises(InputError, match=r"cannot be read as an \.npz"):
        read_real(tmp_path / "real.npz", vai_names)


def test_evaluate_real_checks_everything_before_training(
    capsys, small_build: Path, real_folder: Path, tmp_path: Path, vai_names: list[str]
):
    blank_png(real_folder / vai_names[2] / "blank.png")
    out = tmp_path / "out"
    argv = ["evaluate-real", "vai", "--real", str(real_folder), "--from", str(small_build), "--out", str(out)]
    assert_one_line_error(*run_cli(capsys, *argv), "blank.png")
    assert not out.exists()


def test_evaluate_real_of_a_missing_config(capsys, real_folder: Path, tmp_path: Path):
    argv = ["evaluate-real", "vai", "--real", str(real_folder), "--from", str(tmp_path / "none")]
    assert_one_line_error(*run_cli(capsys, *argv, "--out", str(tmp_path / "out")), "make dataset")
