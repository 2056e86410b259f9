"""The proxy of ``benchmarks/proxy_selection.py``: seeded, and each pair of a class gives exactly one image."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from generator.layout import read_metadata
from generator.repository.export import load_split

pytest.importorskip("torch")
BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def proxy_selection():
    sys.path.insert(0, str(BENCHMARKS))  # it imports real_transfer from beside it, as when run as a script
    try:
        import proxy_selection
    finally:
        sys.path.remove(str(BENCHMARKS))
    return proxy_selection


@pytest.fixture(scope="module")
def pool(tiny_build: Path) -> tuple[np.ndarray, np.ndarray]:
    folder = tiny_build / "vai"
    return load_split(folder, "train", read_metadata(folder))


def test_the_same_proxy_seed_chooses_the_same_images(proxy_selection, pool):
    read, chosen = proxy_selection.choose(*pool, 10, proxy_epochs=1, proxy_seed=100)
    again_read, again = proxy_selection.choose(*pool, 10, proxy_epochs=1, proxy_seed=100)
    assert read.tobytes() == again_read.tobytes()
    assert all(np.array_equal(chosen[key], again[key]) for key in ("hard", "control"))
    # Another seed trains another proxy, which reads the pool differently.
    other_read, _ = proxy_selection.choose(*pool, 10, proxy_epochs=1, proxy_seed=101)
    assert other_read.tobytes() != read.tobytes()


def test_each_pair_gives_one_image_the_hard_set_the_one_read_worse(proxy_selection, pool):
    x_pool, y_pool = pool
    read, chosen = proxy_selection.choose(x_pool, y_pool, 10, proxy_epochs=1, proxy_seed=100)
    pairs = proxy_selection.pairs_by_class(y_pool)
    assert len(chosen["hard"]) == len(chosen["control"]) == len(pairs)
    hard = set(chosen["hard"].tolist())
    for first, second in pairs:
        assert y_pool[first] == y_pool[second]
        assert (first in hard) != (second in hard), "one image of each pair"
        kept, left = (first, second) if first in hard else (second, first)
        assert read[kept] <= read[left]
    assert chosen["control"].tolist() == sorted(first for first, _ in pairs)
