"""Sanitation of collected drawings, as CoMNIST cleaned its crowd, made so that a few hostile writers cannot steer it.

**What a class looks like** (``Reference``) is learnt only from what nobody in the crowd controls: the
config's font exemplars, and the drawings a reviewer *accepted*. Drawings awaiting a decision never
shape it, so twelve bars sent from twelve fresh sessions and labelled 8 change nothing about how the
next 8 is judged; they are themselves judged against the fonts and the accepted 8s. Each writer
counts once: a class's statistics are medians over writers (each writer's own median first), not
over drawings, so one prolific writer weighs no more than any other.

**The checks**, in order; the first that fails gives the reason, in words a reviewer reads:

- *empty*: no ink at all;
- *too little ink*: the drawing spans less than ``MIN_EXTENT`` of the pad (a dot, a tap, a tiny mark);
  checked before ink, because a dot scaled up to the 20x20 box of MNIST is a disc that looks scribbled;
- *scribbled*: far more ink than the class (a robust z-score above ``SCRIBBLE_Z``, against the fonts
  and the accepted writers);
- *looks like another numeral*: it resembles another class's forms better than its own, by more than
  ``MARGIN`` of correlation, both among the fonts alone and among the fonts and accepted drawings
  (accepted hands can show that a form is genuine; they never make a drawing suspect on their own);
- *unlike its class*: its best correlation with its own class's forms (fonts and accepted drawings)
  is under the class's floor: ``UNLIKE_FLOOR``, lowered (never raised) when the accepted writers
  themselves reach less (``FLOOR_Z`` robust standard deviations under their median). This is what
  catches a Latin 4 drawn for Ge'ez ፭: it resembles no Ge'ez numeral well;
- *unusual for its class*: once ``MIN_WRITERS`` writers have accepted drawings in a class, a feature
  more than ``FEATURE_Z`` robust standard deviations from their median (more or fewer strokes, a much
  longer pen path, far off centre, much wider...).

Features (``features``): ``ink`` (inked share of the 28x28 image), ``aspect`` (log of the box's width
over height), ``centre_x``, ``centre_y`` and ``extent`` (on the pad, as shares of its side),
``strokes`` (log of their count), ``length`` (log of the pen's path in box sides) and ``correlation``
(with the class's forms). A verdict is computed when a drawing arrives and stored with it
(``Storage.add_drawing``, ``rescore``), so that the review page reads it instead of recomputing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from generator.collect.drawing import mnist_image
from generator.collect.storage import ACCEPTED, NEW, REJECTED, Drawing, Storage
from generator.registry import NumeralSystem
from generator.synthesis.fonts import render_exemplars
from generator.synthesis.normalize import mnist_normalize
from generator.synthesis.sanitation import MARGIN, SCRIBBLE_Z, Templates, _rival, ink_share, robust_centre, vector

FEATURE_Z = 4.5
FLOOR_Z = 3.0
# Per-feature comparisons start once this many writers have accepted drawings in the class.
MIN_WRITERS = 5
# The accepted writers lower a class's correlation floor once there are this many of them.
MIN_FLOOR_WRITERS = 3
# A numeral spans at least this share of the pad; a dot or a tap spans 1 to 3 %.
MIN_EXTENT = 0.08
# A drawing of the class resembles one of its forms at least this well (Pearson's r after a blur, as
# sanitation measures it). Traced font numerals in a writer's hand reach 0.85 or more in Ge'ez, 0.74 or
# more in 99 % of Vai; Latin digits drawn for Ge'ez numerals reach 0.57 to 0.86, most under 0.80.
UNLIKE_FLOOR = 0.8
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
# How a feature far above or below its class reads to a reviewer.
_WORDS = {
    "ink": ("much more ink", "much less ink"),
    "aspect": ("much wider", "much narrower"),
    "centre_x": ("far to the right", "far to the left"),
    "centre_y": ("far down the pad", "far up the pad"),
    "extent": ("much larger", "much smaller"),
    "strokes": ("drawn in many more strokes", "drawn in fewer strokes"),
    "length": ("a much longer pen path (back and forth)", "a much shorter pen path"),
    "correlation": ("", "a poor match with its forms"),
}


@dataclass(frozen=True)
class Verdict:
    """What the model says of one drawing: its scores, and why it is flagged (None when it is not)."""

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


def stroke_features(drawing: Drawing) -> dict[str, float]:
    """The features of a drawing's strokes on the pad (all but ``ink`` and ``correlation``)."""
    points = np.asarray([[p[0], p[1]] for stroke in drawing.strokes for p in stroke], np.float64)
    size = float(drawing.canvas_size)
    low, high = points.min(axis=0), points.max(axis=0)
    width, height = np.maximum(high - low, size / 100)  # a dot has the pen's size, not zero
    path = sum(
        float(np.hypot(*np.diff(np.asarray([[p[0], p[1]] for p in stroke]), axis=0).T).sum())
        for stroke in drawing.strokes
    )
    return {
        "aspect": float(np.log(width / height)),
        "centre_x": float((low[0] + high[0]) / 2 / size),
        "centre_y": float((low[1] + high[1]) / 2 / size),
        "extent": float(max(width, height) / size),
        "strokes": float(np.log(len(drawing.strokes))),
        "length": float(np.log(max(path, 1.0) / float(max(width, height)))),
    }


def features(drawing: Drawing, image: np.ndarray, templates: Templates) -> dict[str, float]:
    """The features of one drawing, given its 28x28 image and the templates of its config."""
    return {
        "ink": ink_share(image),
        **stroke_features(drawing),
        "correlation": float(templates.class_scores(image)[drawing.label]) if image.any() else -1.0,
    }


@dataclass
class Reference:
    """What each class of one config looks like: its font exemplars and its accepted drawings, each writer once.

    Build it with ``Reference.build``; ``verdict`` judges one drawing against it.
    """

    system: NumeralSystem
    templates: Templates  # fonts and accepted drawings
    font_templates: Templates
    ink: list[tuple[float, float]]  # per class: median inked share and its robust spread
    floors: list[float]  # per class: the least correlation with its forms
    feature_stats: list[dict[str, tuple[float, float]] | None]  # per class, once MIN_WRITERS accepted writers
    writers: list[int]  # per class: how many writers have accepted drawings in it
    accepted_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        system: NumeralSystem,
        accepted: Sequence[Drawing],
        fonts: tuple[list[np.ndarray], list[int]] | None = None,
        images: dict[int, np.ndarray] | None = None,
    ) -> Reference:
        """The reference of ``system`` from its fonts and the ``accepted`` drawings (others are ignored).

        Args:
            fonts: ``font_images(system)``, when the caller has it already.
            images: 28x28 images of drawings by id, when the caller has some already (it gains the rest).
        """
        accepted = [d for d in accepted if d.status == ACCEPTED and d.config == system.name]
        font_list, font_labels = fonts if fonts is not None else font_images(system)
        images = images if images is not None else {}
        for d in accepted:
            if d.id not in images:
                images[d.id] = mnist_image(d.strokes, d.canvas_size)
        inked = [d for d in accepted if images[d.id].any()]
        templates = Templates.from_images(
            list(font_list) + [images[d.id] for d in inked],
            list(font_labels) + [d.label for d in inked],
            system.num_classes,
        )
        first_drawing = len(font_list)
        # Each accepted drawing's features, its own template left out of its correlation.
        per_writer: list[dict[str, list[dict[str, float]]]] = [{} for _ in range(system.num_classes)]
        for position, d in enumerate(inked):
            image = images[d.id]
            row = {"ink": ink_share(image), **stroke_features(d)}
            row["correlation"] = float(templates.class_scores(image, exclude=first_drawing + position)[d.label])
            per_writer[d.label].setdefault(d.session, []).append(row)
        ink, floors, stats, writers = [], [], [], []
        for label in range(system.num_classes):
            voices = [
                {name: float(np.median([row[name] for row in rows])) for name in FEATURES}
                for rows in per_writer[label].values()
            ]
            font_ink = [ink_share(image) for image, lab in zip(font_list, font_labels, strict=True) if lab == label]
            ink.append(robust_centre(np.array(font_ink + [v["ink"] for v in voices]), MIN_SPREAD["ink"]))
            floor = UNLIKE_FLOOR
            if len(voices) >= MIN_FLOOR_WRITERS:
                median, spread = robust_centre(np.array([v["correlation"] for v in voices]), MIN_SPREAD["correlation"])
                floor = min(floor, median - FLOOR_Z * spread)
            floors.append(floor)
            stats.append(
                {name: robust_centre(np.array([v[name] for v in voices]), MIN_SPREAD[name]) for name in FEATURES}
                if len(voices) >= MIN_WRITERS
                else None
            )
            writers.append(len(voices))
        font_templates = Templates.from_images(list(font_list), list(font_labels), system.num_classes)
        accepted_ids = frozenset(d.id for d in accepted)
        return cls(system, templates, font_templates, ink, floors, stats, writers, accepted_ids)

    def verdict(self, drawing: Drawing, image: np.ndarray | None = None) -> Verdict:
        """The verdict on one drawing of this config; ``image`` is its ``mnist_image`` when known.

        An accepted drawing is judged without its own template, as if it were not accepted yet.
        """
        image = mnist_image(drawing.strokes, drawing.canvas_size) if image is None else image
        system, label = self.system, drawing.label
        own_name = _name(system, label)
        table = {"ink": ink_share(image), **stroke_features(drawing)}
        if not image.any():
            return Verdict(drawing.id, table | {"correlation": -1.0}, "empty: no ink")
        scores = self._scores(drawing, image)
        table["correlation"] = float(scores[label])
        rival = _rival(scores, label, MARGIN)
        if rival is not None and _rival(self.font_templates.class_scores(image), label, MARGIN) is None:
            rival = None  # accepted hands resemble another class; the fonts do not: a hand's form
        table |= {"floor": round(self.floors[label], 3), "rival": -1 if rival is None else rival}
        table["rival_correlation"] = (
            float(scores[rival]) if rival is not None else float(np.delete(scores, label).max())
        )

        if table["extent"] < MIN_EXTENT:
            return Verdict(
                drawing.id,
                table,
                f"too little ink: a dot or a tiny mark, {table['extent']:.0%} of the pad across; "
                f"a numeral spans a good part of it",
            )
        median, spread = self.ink[label]
        if (table["ink"] - median) / spread > SCRIBBLE_Z:
            return Verdict(
                drawing.id,
                table,
                f"scribbled: ink covers {table['ink']:.0%} of the picture, where {own_name} covers about {median:.0%}",
            )
        if rival is not None:
            return Verdict(
                drawing.id,
                table,
                f"looks like {_name(system, rival)} more than {own_name} "
                f"(resemblance {scores[rival]:.2f} against {scores[label]:.2f})",
            )
        if scores[label] < self.floors[label]:
            return Verdict(
                drawing.id,
                table,
                f"unlike {own_name}: it resembles the numeral's forms at {_down(scores[label])}, where genuine ones "
                f"reach {self.floors[label]:.2f} or more (another script's digit, or a shape of no numeral)",
            )
        stats = self.feature_stats[label]
        if stats is not None:
            unusual = []
            for name in FEATURES:
                centre, spread = stats[name]
                z = (table[name] - centre) / spread
                if (-z if name in _ONE_SIDED else abs(z)) > FEATURE_Z:
                    unusual.append(_WORDS[name][0 if z > 0 else 1])
            if unusual:
                return Verdict(
                    drawing.id,
                    table,
                    f"unusual for {own_name}: {', '.join(unusual)}, compared with the {self.writers[label]} "
                    "writers whose drawings were accepted",
                )
        return Verdict(drawing.id, table, None)

    def _scores(self, drawing: Drawing, image: np.ndarray) -> np.ndarray:
        if drawing.id not in self.accepted_ids:
            return self.templates.class_scores(image)
        # Its own template would match it perfectly: leave out the template closest to it.
        correlations = self.templates.vectors @ vector(image)
        return self.templates.class_scores(image, exclude=int(correlations.argmax()))


def _down(value: float) -> str:
    """A correlation to two places, rounded down: 0.797 is shown as 0.79, under a floor of 0.80."""
    return f"{math.floor(value * 100) / 100:.2f}"


def _name(system: NumeralSystem, label: int) -> str:
    """A class as a reviewer reads it: the numeral and its class name, "፭ (class 5)"."""
    return f"{system.characters[label]} (class {system.class_names[label]})"


def assess(system: NumeralSystem, drawings: Sequence[Drawing], fonts: tuple[list, list] | None = None) -> list[Verdict]:
    """The model's verdict on every drawing of one config, against a reference of its fonts and the
    drawings among ``drawings`` that a reviewer accepted. Rejected drawings are flagged as such."""
    reference = Reference.build(system, drawings, fonts)
    verdicts = []
    for d in drawings:
        verdict = reference.verdict(d)
        if d.status == REJECTED and not verdict.flagged:
            verdict = Verdict(d.id, verdict.features, "rejected by a reviewer")
        verdicts.append(verdict)
    return verdicts


def rescore(
    storage: Storage, system: NumeralSystem, *, unscored_only: bool = False, fonts: tuple[list, list] | None = None
) -> int:
    """Scores the drawings of ``system`` against the current reference and stores the verdicts.

    All drawings awaiting a decision are rescored (accepting drawings changes the reference), and
    any drawing not scored yet (a database from an earlier version); with ``unscored_only``, only those.
    Returns how many drawings were scored.
    """
    if unscored_only:
        chosen = storage.drawings(system.name, with_png=False, unscored=True)
    else:
        chosen = [d for d in storage.drawings(system.name, with_png=False) if d.status == NEW or d.scored_at is None]
    if not chosen:
        return 0
    reference = Reference.build(system, storage.drawings(system.name, with_png=False, status=ACCEPTED), fonts)
    verdicts = [reference.verdict(d) for d in chosen]
    storage.set_scores([(v.drawing_id, v.reason, v.features) for v in verdicts])
    return len(verdicts)


class References:
    """The reference of each served config, rebuilt when a review decision changed what is accepted.

    The drawing page asks it for every drawing that arrives; the database is asked whether anything
    changed at most every ``refresh_s`` seconds, and a rebuild renders only drawings it has not seen.
    """

    def __init__(self, storage: Storage, systems: Sequence[NumeralSystem], refresh_s: float = 30.0):
        self.storage = storage
        self.systems = {system.name: system for system in systems}
        self.refresh_s = refresh_s
        self._fonts: dict[str, tuple[list, list]] = {}
        self._images: dict[int, np.ndarray] = {}
        self._built: dict[str, tuple[int, Reference]] = {}
        self._checked = -float("inf")
        self._decision = -1
        self._lock = threading.Lock()

    def get(self, config: str) -> Reference:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= self.refresh_s:
                self._checked = now
                self._decision = self.storage.last_decision()
            built = self._built.get(config)
            if built is not None and built[0] == self._decision:
                return built[1]
            system = self.systems[config]
            if config not in self._fonts:
                self._fonts[config] = font_images(system)
            accepted = self.storage.drawings(config, with_png=False, status=ACCEPTED)
            reference = Reference.build(system, accepted, self._fonts[config], self._images)
            self._built[config] = (self._decision, reference)
            return reference


# Each reason's kind, by how it starts: for counting what a report flagged.
REASON_KINDS = {
    "empty": "empty",
    "too little ink": "too little ink",
    "scribbled": "scribbled",
    "looks like": "looks like another numeral",
    "unlike": "unlike its class",
    "unusual for": "unusual for its class",
    "rejected": "rejected by a reviewer",
}


def reason_kind(reason: str | None) -> str:
    """The kind of a flag's reason (a ``REASON_KINDS`` value), or ``"not flagged"``."""
    if reason is None:
        return "not flagged"
    return next((kind for start, kind in REASON_KINDS.items() if reason.startswith(start)), "other")


def planted_report(reference: Reference, cases: dict[str, Sequence[Drawing]]) -> list[dict]:
    """What the model makes of each group of planted drawings: how many it flags, and why.

    Returns, for each group in order: ``case``, ``drawings``, ``flagged``, ``kinds`` (each reason's kind
    and how many drawings got it, most first) and ``example`` (the first flagged drawing's reason, in full,
    or None).
    """
    rows = []
    for case, drawings in cases.items():
        verdicts = [reference.verdict(d) for d in drawings]
        kinds: dict[str, int] = {}
        for verdict in verdicts:
            kind = reason_kind(verdict.reason)
            kinds[kind] = kinds.get(kind, 0) + 1
        rows.append(
            {
                "case": case,
                "drawings": len(drawings),
                "flagged": sum(v.flagged for v in verdicts),
                "kinds": dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0]))),
                "example": next((v.reason for v in verdicts if v.flagged), None),
            }
        )
    return rows
