"""Sanitation: anomaly checks on per-class statistics, for handwritten seeds and generated samples.

Crowd-sourced digit sets such as CoMNIST are cleaned by comparing each image with the rest of its
class. Afro-MNIST does the same twice:

- **Seeds** (``check_seeds``): a handwritten seed is left out when it is *empty* (no ink once the
  paper is removed), *scribbled* (far more ink than its class: a robust z-score of the inked share
  of the frame above ``SCRIBBLE_Z``), or *mislabelled* (it correlates better with another class's
  exemplars than with its own, by more than ``MARGIN``).
- **Generated samples** (``Templates.verdict``): a deformation can smear a digit into something
  that is no numeral at all. A sample is redrawn when it *lost its structure* (fewer pieces or other
  holes than its exemplar beyond ``STRUCTURE_TOLERANCE``, or more than ``EXTRA_PIECES`` more pieces:
  a sign run into a bar, a loop filled, a stroke in bits), or when it is a *blot* (its inked share of
  the frame lies more than ``SCRIBBLE_Z`` robust standard deviations above its class's exemplars').
  Both are absolute: a blob that resembles no class in particular is refused.

  A generated sample that correlates better with another class's exemplars than with its own is
  *kept*. Redrawing those (0.4.0 did, by ``MARGIN``) took the samples furthest from the fonts, which
  are the ones most like real handwriting: at 20,000 images and three training seeds it cost real
  Tamil 3.5 points, Malayalam 3.2 and MNIST 4.1, and bought Ge'ez's generated test 0.4
  (docs/results.md). The structure test is what keeps a small sign a sign.

Correlation is Pearson's r between the two images after a Gaussian blur of ``BLUR_SIGMA`` pixels,
which makes it tolerant of the small shifts and stroke-width changes that every sample has. The
exemplars of a class are its font exemplars (traced with the recipe's pen, when it has one; see
``generator.synthesis.synthesizer.templates_for``) and its kept seeds, all MNIST-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from generator.synthesis.normalize import INK_THRESHOLD

# Blur before correlating, in pixels of the 28x28 frame.
BLUR_SIGMA = 1.5
# An image is out of its class when another class beats its own by more than this much correlation.
MARGIN = 0.05
# A seed whose inked share of the frame lies this many robust standard deviations above its class's
# median is a scribble rather than a digit.
SCRIBBLE_Z = 3.5
# The robust spread of a class's ink share is never taken as less than this, so that a class of a
# few near-identical seeds does not flag every slightly bolder one.
_MIN_INK_SPREAD = 0.03
# A median absolute deviation times this is the standard deviation, for Gaussian noise.
MAD_TO_SIGMA = 1.4826
# A sample keeps its exemplar's structure when its count of holes is within this many of the
# exemplar's, and its count of pieces is at most this many fewer: a hand may close or open one loop
# and join two strokes, not run a numeral's parts together.
STRUCTURE_TOLERANCE = 1
# A sample may be in up to this many more pieces than its exemplar: gaps where the pen skipped. Real
# handwritten Tamil and Malayalam digits are in more pieces than their fonts' in about a fifth of
# cases (afro-mnist stats), and refusing such samples read real Malayalam 3.5 points worse (20,000
# images, 5 epochs, seed 0) for no gain on Ge'ez's generated test.
EXTRA_PIECES = 2
# Each class is compared with at most this many representative templates (medoids of its designs),
# so that the check's cost does not grow with the number of fonts.
REPRESENTATIVES = 8
# Why a generated sample is redrawn, in the order the checks run.
REASONS = ("lost_structure", "blot")


def robust_centre(reference: np.ndarray, least_spread: float = 0.0) -> tuple[float, float]:
    """The median of ``reference`` and its robust standard deviation (MAD), never under ``least_spread``."""
    median = float(np.median(reference))
    return median, max(MAD_TO_SIGMA * float(np.median(np.abs(reference - median))), least_spread)


def robust_z(values: np.ndarray, reference: np.ndarray, least_spread: float = 0.0) -> np.ndarray:
    """How many robust standard deviations ``values`` lie above ``reference``'s median."""
    median, spread = robust_centre(reference, least_spread)
    return (np.asarray(values, np.float64) - median) / spread


def structure_kept(sample: tuple[int, int], exemplar: tuple[int, int]) -> bool:
    """Whether a sample's (pieces, holes) keep its exemplar's: see ``STRUCTURE_TOLERANCE`` and ``EXTRA_PIECES``."""
    (pieces, holes), (own_pieces, own_holes) = sample, exemplar
    return (
        own_pieces - STRUCTURE_TOLERANCE <= pieces <= own_pieces + EXTRA_PIECES
        and abs(holes - own_holes) <= STRUCTURE_TOLERANCE
    )


def _vectors(images: np.ndarray) -> np.ndarray:
    """``(N, 28, 28)`` images -> ``(N, 784)`` blurred, centred, unit-length rows."""
    return np.stack([vector(image) for image in images])


def vector(image: np.ndarray) -> np.ndarray:
    """One image as a blurred, centred, unit-length row of float32.

    Every sample is checked, so this is kept to a few calls on one image.
    """
    row = cv2.GaussianBlur(image.astype(np.float32), (0, 0), BLUR_SIGMA).reshape(-1)
    row -= row.mean()
    return row / max(np.sqrt(np.add.reduce(row * row)), np.float32(1e-6))


def distinctness(own: np.ndarray, rivals: np.ndarray) -> float:
    """How far a glyph stands from the nearest of its rivals: one minus its best correlation with any of them.

    ``own`` is the glyph's ``vector``, ``rivals`` the ``(R, 784)`` vectors of other classes' glyphs (those of its
    own design, for a font's glyph). Without rivals it is 1.
    """
    if not len(rivals):
        return 1.0
    return float(min(max(1.0 - float(np.max(rivals @ own)), 0.0), 1.0))


@dataclass(frozen=True)
class Templates:
    """The exemplars of every class, ready to correlate with.

    Attributes:
        vectors: ``(T, 784)`` blurred, centred, unit-length exemplars.
        labels: ``(T,)`` the class of each.
        num_classes: the number of classes.
        margin: how much better another class must correlate for an image to be out of its own.
    """

    vectors: np.ndarray
    labels: np.ndarray
    num_classes: int
    margin: float = MARGIN
    ink: np.ndarray | None = None

    @classmethod
    def from_images(
        cls, images: list[np.ndarray], labels: list[int], num_classes: int, representatives: int | None = None
    ) -> Templates:
        """Templates of ``images``; with ``representatives``, only that many medoids per class are kept.

        ``ink`` keeps every image's inked share, the reference for blots, before any is left out.
        """
        vectors, classes = _vectors(np.stack(images)), np.asarray(labels, np.int64)
        ink = _class_ink(np.array([ink_share(image) for image in images]), classes, num_classes)
        if representatives is not None:
            keep = np.concatenate(
                [_medoids(vectors, np.flatnonzero(classes == label), representatives) for label in range(num_classes)]
            )
            vectors, classes = vectors[keep], classes[keep]
        return cls(vectors, classes, num_classes, ink=ink)

    def verdict(self, image: np.ndarray, label: int) -> str | None:
        """Why a generated ``image`` of class ``label`` must be redrawn (a ``REASONS`` entry), or None.

        Structure is checked by the caller, who knows the exemplar; this checks blots. A sample that
        resembles another class is kept (see the module's docstring); ``out_of_class`` serves seeds.
        """
        if self.ink is not None:
            median, spread = self.ink[label]
            if (ink_share(image) - median) / spread > SCRIBBLE_Z:
                return "blot"
        return None

    def class_scores(self, image: np.ndarray, exclude: int | None = None) -> np.ndarray:
        """The best correlation of ``image`` with each class's exemplars (``-1`` for a class with none).

        ``exclude`` leaves one template out, so that an image can be compared with the rest of its class.
        """
        correlations = self.vectors @ vector(image)
        if exclude is not None:
            correlations[exclude] = -np.inf
        order, classes, starts = self._by_class
        scores = np.full(self.num_classes, -1.0)
        scores[classes] = np.maximum(np.maximum.reduceat(correlations[order], starts), -1.0)  # -1 if all excluded
        return scores

    @cached_property
    def _by_class(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The templates' order grouped by class, the classes present, and where each one's group starts."""
        order = np.argsort(self.labels, kind="stable")
        classes, starts = np.unique(self.labels[order], return_index=True)
        return order, classes, starts

    def out_of_class(self, image: np.ndarray, label: int) -> int | None:
        """The class that ``image`` resembles better than its own ``label``, by more than ``MARGIN``; else None."""
        return _rival(self.class_scores(image), label, self.margin)


def _rival(scores: np.ndarray, label: int, margin: float = MARGIN) -> int | None:
    """The best class but ``label`` when it beats ``label`` by more than ``margin``; else None."""
    own = scores[label]
    others = scores.copy()
    others[label] = -np.inf
    best = int(others.argmax())
    return best if others[best] > own + margin else None


def _class_ink(ink: np.ndarray, classes: np.ndarray, num_classes: int) -> np.ndarray:
    """``(num_classes, 2)``: the median inked share of each class's templates, and its robust spread."""
    return np.array([robust_centre(ink[classes == label], _MIN_INK_SPREAD) for label in range(num_classes)])


def _medoids(vectors: np.ndarray, members: np.ndarray, count: int) -> np.ndarray:
    """``count`` of ``members`` that together best stand for all of them (a few rounds of k-medoids).

    Deterministic: it starts from the members most correlated with the rest and breaks ties by order.
    """
    if len(members) <= count:
        return members
    similarity = vectors[members] @ vectors[members].T
    chosen = np.sort(np.argsort(-similarity.sum(axis=1), kind="stable")[:count])
    for _ in range(10):
        nearest = similarity[:, chosen].argmax(axis=1)
        updated = chosen.copy()
        for group in range(count):
            cluster = np.flatnonzero(nearest == group)
            if len(cluster):
                updated[group] = cluster[similarity[np.ix_(cluster, cluster)].sum(axis=1).argmax()]
        updated = np.sort(updated)
        if np.array_equal(updated, chosen):
            break
        chosen = updated
    return members[chosen]


def ink_share(image: np.ndarray) -> float:
    """The share of the frame's pixels that hold ink."""
    return float(np.count_nonzero(image > INK_THRESHOLD)) / image.size


def check_seeds(
    seeds: list[np.ndarray], labels: list[int], fonts: list[np.ndarray], font_labels: list[int], class_names: list[str]
) -> list[str | None]:
    """Why each seed should be left out, or None to keep it.

    Args:
        seeds: MNIST-normalised seed images; an all-black one is empty.
        labels: the class each seed was filed under.
        fonts: MNIST-normalised font exemplars, the reference for every class.
        font_labels: the class of each font exemplar.
        class_names: for the reasons' wording.
    """
    reasons: list[str | None] = [None] * len(seeds)
    inked = [index for index, seed in enumerate(seeds) if seed.any()]
    for index in set(range(len(seeds))) - set(inked):
        reasons[index] = "empty: no ink once the paper is removed"

    # Scribbles first: a blot would otherwise count as part of its class when checking the others.
    shares = np.array([ink_share(seed) for seed in seeds])
    for label in sorted({labels[index] for index in inked}):
        members = [index for index in inked if labels[index] == label]
        reference = np.concatenate(
            [shares[members], [ink_share(font) for font, lab in zip(fonts, font_labels, strict=True) if lab == label]]
        )
        median = robust_centre(reference)[0]
        scores = robust_z(shares[members], reference, _MIN_INK_SPREAD)
        for index, score in zip(members, scores, strict=True):
            if score > SCRIBBLE_Z:
                reasons[index] = (
                    f"scribbled: ink covers {shares[index]:.0%} of the frame against "
                    f"{median:.0%} for class {class_names[label]}"
                )

    candidates = [index for index in inked if reasons[index] is None]
    if not candidates:
        return reasons
    images = [seeds[index] for index in candidates] + list(fonts)
    classes = [labels[index] for index in candidates] + list(font_labels)
    templates = Templates.from_images(images, classes, len(class_names))
    for position, index in enumerate(candidates):
        scores = templates.class_scores(seeds[index], exclude=position)
        rival = _rival(scores, labels[index])
        if rival is not None:
            reasons[index] = (
                f"mislabelled: looks like class {class_names[rival]} (r={scores[rival]:.2f}) "
                f"more than class {class_names[labels[index]]} (r={scores[labels[index]]:.2f})"
            )
    return reasons
