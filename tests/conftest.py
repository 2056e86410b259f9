"""Shared fixtures: tiny numeral systems and tiny generated configs, made by the tests themselves."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from fontTools import subset
from fontTools.ttLib import TTFont

from generator.cli import main
from generator.generate import GenerateSettings, generate
from generator.layout import format_code_point
from generator.registry import NumeralSystem, builtin_systems
from generator.repository.card import write_repository_files

# The checkout's root: afro_mnist.py and CHANGELOG.md sit there.
PROJECT_DIR = Path(__file__).resolve().parent.parent

# Small enough for a fast suite, large enough for two shards per split and several chunks.
TINY = {"train_size": 60, "test_size": 20, "chunk_size": 10, "rows_per_shard": 40}


@pytest.fixture(scope="session")
def bundle() -> ModuleType:
    """``scripts/bundle_fonts.py``, imported as a module."""
    spec = importlib.util.spec_from_file_location("bundle_fonts", PROJECT_DIR / "scripts" / "bundle_fonts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_spec(folder: Path, system: NumeralSystem, config: str, **overrides: object) -> Path:
    """Writes a spec file for a copy of ``system`` whose fonts are copied beside it, as a user would."""
    folder.mkdir(parents=True, exist_ok=True)
    fonts = []
    for font in system.fonts:
        shutil.copy(font, folder / font.name)
        fonts.append(font.name)
    values: dict[str, object] = {
        "name": config,
        "script": system.script,
        "code_points": [format_code_point(cp) for cp in system.code_points],
        "class_names": list(system.class_names),
        "fonts": fonts,
        **overrides,
    }
    lines = [f"{key} = {_toml(value)}" for key, value in values.items()]
    path = folder / f"{config}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def font_without(source: Path, dest: Path, code_point: int) -> Path:
    """Writes a copy of ``source`` that lacks the glyph of one code point."""
    font = TTFont(source)
    kept = [cp for cp in font.getBestCmap() if cp != code_point]
    subsetter = subset.Subsetter(subset.Options(notdef_outline=True))
    subsetter.populate(unicodes=kept)
    subsetter.subset(font)
    font.save(dest)
    return dest


def _toml(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


# The command line in a process of its own that kills itself (SIGKILL, as the out-of-memory killer does) at the first
# rename of a file whose name starts with a prefix: a run stopped after writing its temporary file, before its rename.
_KILLED_AT_RENAME = """
import os, signal, sys
if sys.argv[3] == "no-torch":
    sys.modules["torch"] = None
sys.path.insert(0, sys.argv[1])
from pathlib import Path
replace = os.replace

def replace_or_die(source, target):
    if Path(source).name.startswith(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    return replace(source, target)

os.replace = replace_or_die
from generator.cli import main
sys.exit(main(sys.argv[4:]))
"""


def run_killed_at_rename(
    prefix: str, *argv: str, torch: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs ``afro-mnist argv`` until it renames a file named ``prefix...`` into place, and kills it there.

    ``torch=False`` runs it as an install without PyTorch would (the export needs none).
    """
    mode = "torch" if torch else "no-torch"
    command = [sys.executable, "-c", _KILLED_AT_RENAME, str(PROJECT_DIR), prefix, mode, *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("afro-mnist: error: ")
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="session")
def vai() -> NumeralSystem:
    return builtin_systems()["vai"]


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four built-in configs, tiny, generated once for the read-only tests."""
    out = tmp_path_factory.mktemp("build") / "afro_mnist"
    generate(list(builtin_systems().values()), out, GenerateSettings(seed=7, workers=1, progress=False, **TINY))
    write_repository_files(out)  # as the command does after generating
    return out
