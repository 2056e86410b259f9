"""Sanitation of collected drawings, as CoMNIST cleaned its crowd: a per-class anomaly model.

Every drawing is described by a few features, each compared with the rest of its class:

- ``ink``: the inked share of its 28x28 image;
- ``aspect``: the log of its bounding box's width over height;
- ``centre_x``, ``centre_y``: the centre of its ink on the canvas, as a share of the canvas;
- ``extent``: the longer side of its bounding box, as a share of the canvas;
- ``strokes``: the log of how many strokes it took (one more stroke matters less the more there are);
- ``length``: the log of the pen's path, in bounding-box sides;
- ``correlation``: its best correlation with its class's font exemplars (``generator.synthesis.sanitation``).

A drawing is flagged when seed sanitation would leave it out (``generator.synthesis.sanitation.check_seeds``:
empty, scribbled, or more like another class's exemplars than its own), or when a feature lies more
than ``FEATURE_Z`` robust standard deviations (median and MAD, against the class's other drawings)
from its class. Features are only compared once a class holds ``MIN_CLASS_SIZE`` drawings; the
checks against the fonts apply from the first drawing. Drawings a reviewer rejected never shape a
class's statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generator.collect.drawing import mnist_image
from generator.collect.storage import REJECTED, Drawing
from generator.registry import NumeralSystem
from generator.synthesis.fonts import render_exemplars
from generator.synthesis.normalize import mnist_normalize
from generator.synthesis.sanitation import Templates, check_seeds, ink_share, robust_centre

FEATURE_Z = 4.5
MIN_CLASS_SIZE = 8
# The smallest spread each feature is taken to have: a class of near-identical drawings must not
# flag every slightly different one. In each feature's own units.
MIN_SPREAD = {
    "ink": 0.03,
    "aspect": 0.25,
    "centre_x": 0.06,
    "centre_y": 0.06,
    "extent": 0.08,
    "strokes": 0.3,
    "length": 0.25,
    "correlation": 0.05,
}
FEATURES = tuple(MIN_SPREAD)
# Too little of a feature is as strange as too much, except correlation with the class: more is never strange.
_ONE_SIDED = {"correlation"}


@dataclass(frozen=True)
class Verdict:
    """What the model says of one drawing: its features, and why it is flagged (None when it is not)."""

    drawing_id: int
    features: dict[str, float]
    reason: str | None

    @property
    def flagged(self) -> bool:
        return self.reason is not None


def font_images(system: NumeralSystem) -> tuple[list[np.ndarray], list[int]]:
    """Every font exemplar of ``system``, MNIST-normalised, with its class."""
    images, labels = [], []
    for glyphs in render_exemplars(system.fonts, system.code_points):
        for label, glyph in enumerate(glyphs):
            images.append(mnist_normalize(glyph))
            labels.append(label)
    return images, labels


def features(drawing: Drawing, image: np.ndarray, templates: Templates) -> dict[str, float]:
    """The features of one drawing, given its 28x28 image and its config's font templates."""
    points = np.asarray([[p[0], p[1]] for stroke in drawing.strokes for p in stroke], np.float64)
    size = float(drawing.canvas_size)
    low, high = points.min(axis=0), points.max(axis=0)
    width, height = np.maximum(high - low, size / 100)  # a dot has the pen's size, not zero
    path = sum(
        float(np.hypot(*np.diff(np.asarray([[p[0], p[1]] for p in stroke]), axis=0).T).sum())
        for stroke in drawing.strokes
    )
    return {
        "ink": ink_share(image),
        "aspect": float(np.log(width / height)),
        "centre_x": float((low[0] + high[0]) / 2 / size),
        "centre_y": float((low[1] + high[1]) / 2 / size),
        "extent": float(max(width, height) / size),
        "strokes": float(np.log(len(drawing.strokes))),
        "length": float(np.log(max(path, 1.0) / float(max(width, height)))),
        "correlation": float(templates.class_scores(image)[drawing.label]) if image.any() else -1.0,
    }


def assess(system: NumeralSystem, drawings: Sequence[Drawing], fonts: tuple[list, list] | None = None) -> list[Verdict]:
    """The model's verdict on every drawing of one config.

    Args:
        system: the config's numeral system.
        drawings: its drawings; rejected ones get a verdict but never count in their class's statistics.
        fonts: ``font_images(system)``, when the caller has it already.
    """
    font_list, font_labels = fonts if fonts is not None else font_images(system)
    templates = Templates.from_images(font_list, font_labels, system.num_classes)
    images = [mnist_image(d.strokes, d.canvas_size) for d in drawings]
    table = [features(d, image, templates) for d, image in zip(drawings, images, strict=True)]
    counted = [index for index, d in enumerate(drawings) if d.status != REJECTED]

    reasons: list[str | None] = [None] * len(drawings)
    seed_reasons = check_seeds(
        [images[i] for i in counted],
        [drawings[i].label for i in counted],
        font_list,
        font_labels,
        list(system.class_names),
    )
    for index, reason in zip(counted, seed_reasons, strict=True):
        reasons[index] = reason

    for label in range(system.num_classes):
        members = [i for i in counted if drawings[i].label == label]
        if len(members) < MIN_CLASS_SIZE:
            continue
        for name in FEATURES:
            values = np.array([table[i][name] for i in members])
            for position, index in enumerate(members):
                if reasons[index] is not None:
                    continue
                others = np.delete(values, position)
                median, spread = robust_centre(others, MIN_SPREAD[name])
                z = (values[position] - median) / spread
                if (-z if name in _ONE_SIDED else abs(z)) > FEATURE_Z:
                    reasons[index] = (
                        f"far from class {system.class_names[label]}: {name} {values[position]:.2f} "
                        f"against {median:.2f} (z={z:+.1f})"
                    )
    for index, d in enumerate(drawings):
        if d.status == REJECTED and reasons[index] is None:
            reasons[index] = "rejected by a reviewer"
    return [Verdict(d.id, table[i], reasons[i]) for i, d in enumerate(drawings)]
