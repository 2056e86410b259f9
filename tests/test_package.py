"""The package's public face: ``from generator import load_data, AfroMNIST``, imported only when first used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import generator
from generator.repository import export

# What a bare `import generator` or the command line's start-up must not load: they take seconds, and PyTorch may
# not even be installed.
HEAVY = ("torch", "datasets", "pyarrow", "huggingface_hub")


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stdout))


@pytest.mark.parametrize("statement", ["import generator", "import generator.cli"])
def test_importing_the_package_or_its_command_loads_nothing_heavy(statement: str):
    loaded = modules_after(statement)
    assert not [name for name in HEAVY if name in loaded]


def test_load_data_is_imported_on_first_use_and_is_the_exports():
    loaded = modules_after("from generator import load_data")
    assert "generator.repository.export" in loaded
    assert "torch" not in loaded, "load_data alone does not need PyTorch"
    assert generator.load_data is export.load_data


def test_afro_mnist_is_the_torch_dataset():
    pytest.importorskip("torch")
    from generator.repository.torch import AfroMNIST

    assert generator.AfroMNIST is AfroMNIST


def test_public_names_are_listed_and_others_are_refused():
    assert set(generator.__all__) == {"AfroMNIST", "__version__", "load_data"}
    assert {"AfroMNIST", "load_data"} <= set(dir(generator))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = generator.nothing_here
