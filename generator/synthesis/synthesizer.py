"""Synthesis: exemplar canvases in, finished PNG images out. This is all a worker process runs.

It is kept apart from ``generate`` so that a worker imports only what drawing needs: no parquet,
Hugging Face or card code.
"""

from __future__ import annotations

from dataclasses import dataclass

import albumentations as A
import cv2
import numpy as np

from generator.errors import InputError
from generator.registry import NumeralSystem
from generator.synthesis.fonts import render_exemplars
from generator.synthesis.glyph import GlyphShape, clearance, measure_glyph, smooth_stairs, structure
from generator.synthesis.normalize import EmptyImageError, mnist_normalize, to_canvas
from generator.synthesis.plan import Chunk
from generator.synthesis.recipe import CLEARANCE_KEY, DISTINCTNESS_KEY, RIVALS_KEY, PenStroke  # registers ours too
from generator.synthesis.sanitation import REASONS, REPRESENTATIVES, Templates, distinctness, structure_kept, vector

# A deformation that leaves no ink is redrawn; this many failures in a row means a broken recipe.
_MAX_REDRAWS = 20
# A sample that sanitation finds out of its class is redrawn at most this many times; after that the
# last draw is kept (and counted), so that an exemplar that itself resembles another class cannot stall.
MAX_SANITATION_REDRAWS = 5


class Synthesizer:
    """Turns exemplar canvases into finished PNG images with one seeded recipe.

    Args:
        canvases: ``[font][label]`` font exemplar canvases.
        recipe: the albumentations pipeline.
        seeds: ``[label]`` lists of handwritten seed canvases; for a label, source ``len(canvases) + i``
            is its seed ``i``.
        templates: when given, samples that correlate better with another class are redrawn
            (see ``generator.synthesis.sanitation``).
    """

    def __init__(
        self,
        canvases: list[list[np.ndarray]],
        recipe: A.Compose,
        seeds: list[list[np.ndarray]] | None = None,
        templates: Templates | None = None,
    ):
        self.canvases = canvases
        self.recipe = recipe
        self.seeds = seeds
        self.templates = templates
        self.redrawn = np.zeros(len(canvases[0]), np.int64)
        self.kept_after_redraws = np.zeros(len(canvases[0]), np.int64)
        self.rejected = {reason: np.zeros(len(canvases[0]), np.int64) for reason in REASONS}
        self._shapes: dict[tuple[int, int], GlyphShape] = {}
        self._vectors: dict[tuple[int, int], np.ndarray] = {}
        self._rivals: dict[tuple[int, int], np.ndarray] = {}
        self._distinctness: dict[tuple[int, int], float] = {}

    def exemplar(self, label: int, source: int) -> np.ndarray:
        fonts = len(self.canvases)
        return self.canvases[source][label] if source < fonts else self.seeds[label][source - fonts]

    def shape(self, label: int, source: int) -> GlyphShape:
        """The exemplar's clearance and structure (``generator.synthesis.glyph.measure_glyph``), measured once."""
        key = (label, source)
        if key not in self._shapes:
            self._shapes[key] = measure_glyph(self.exemplar(label, source))
        return self._shapes[key]

    def _vector(self, label: int, source: int) -> np.ndarray:
        key = (label, source)
        if key not in self._vectors:
            self._vectors[key] = vector(mnist_normalize(self.exemplar(label, source)))
        return self._vectors[key]

    def rivals(self, label: int, source: int) -> np.ndarray:
        """The other numerals of the exemplar's design, as sanitation correlates them (``(R, 784)``).

        A font's glyph has the same font's other glyphs; a handwritten seed, which has no design of its own, every
        font's glyphs of the other classes, one array shared by the seeds of a class. Measured once.
        """
        fonts = len(self.canvases)
        key = (label, source if source < fonts else -1)
        if key not in self._rivals:
            designs = [source] if source < fonts else range(fonts)
            rows = [
                self._vector(other, design)
                for design in designs
                for other, canvas in enumerate(self.canvases[design])
                if other != label and canvas is not None
            ]
            own = self._vector(label, source)
            self._rivals[key] = np.array(rows, np.float32) if rows else np.empty((0, own.size), np.float32)
            self._rivals[key].flags.writeable = False
        return self._rivals[key]

    def distinctness(self, label: int, source: int) -> float:
        """How far the exemplar stands from the other numerals of its design (``sanitation.distinctness``)."""
        key = (label, source)
        if key not in self._distinctness:
            self._distinctness[key] = distinctness(self._vector(label, source), self.rivals(label, source))
        return self._distinctness[key]

    def verdict(self, canvas: np.ndarray, image: np.ndarray, label: int, source: int) -> str | None:
        """Why sanitation redraws a sample (a ``REASONS`` entry), or None to keep it."""
        if not structure_kept(structure(canvas), self.shape(label, source).structure):
            return "lost_structure"
        return self.templates.verdict(image, label)

    def image(self, label: int, source: int) -> np.ndarray:
        """One deformed, MNIST-normalised 28x28 image, drawn from the recipe's current random state.

        The recipe gets the exemplar's clearance and distinctness beside it, so that its transforms can scale
        their strength to what the glyph can take.
        """
        exemplar = self.exemplar(label, source)
        data = {
            "image": exemplar,
            CLEARANCE_KEY: self.shape(label, source).clearance,
            DISTINCTNESS_KEY: self.distinctness(label, source),
            RIVALS_KEY: self.rivals(label, source),
        }
        rejected = 0
        for _ in range(_MAX_REDRAWS):
            canvas = self.recipe(**data)["image"]
            try:
                image = mnist_normalize(canvas)
            except EmptyImageError:
                continue
            if self.templates is None:
                return image
            reason = self.verdict(canvas, image, label, source)
            if reason is None:
                return image
            if rejected == MAX_SANITATION_REDRAWS:
                self.kept_after_redraws[label] += 1
                return image
            rejected += 1
            self.redrawn[label] += 1
            self.rejected[reason][label] += 1
        raise InputError(
            f"the recipe erased label {label} of exemplar {source} {_MAX_REDRAWS} times running; make it keep some ink"
        )

    def render(self, labels: tuple[int, ...], sources: tuple[int, ...], seed: int) -> Rendered:
        self.recipe.set_random_seed(seed)
        self.redrawn[:] = 0
        self.kept_after_redraws[:] = 0
        for counts in self.rejected.values():
            counts[:] = 0
        pngs = [encode_png(self.image(label, source)) for label, source in zip(labels, sources, strict=True)]
        rejected = {reason: counts.tolist() for reason, counts in self.rejected.items()}
        return Rendered(pngs, self.redrawn.tolist(), self.kept_after_redraws.tolist(), rejected)


@dataclass(frozen=True)
class Rendered:
    """A chunk's images, and per class how many draws sanitation rejected (in all and per reason) or had to keep."""

    pngs: list[bytes]
    redrawn: list[int]
    kept_after_redraws: list[int]
    rejected: dict[str, list[int]]


# PNGs are stored unfiltered and uncompressed, and the parquet pages are compressed with zstd
# instead: across a row group of similar digits zstd beats per-image deflate (about 240 bytes an
# image against 360), and encoding costs 7 us instead of 50. OpenCV applies the flags in order.
_PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 0, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]


def encode_png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image, _PNG_PARAMS)
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def exemplar_canvases(system: NumeralSystem) -> list[list[np.ndarray | None]]:
    """``[font][label]`` canvases ready for the recipe; checks every font on the way.

    A glyph that the spec excludes (``exclude_classes``) is ``None``: it is never drawn nor a template. A glyph
    whose outline is stair-stepped (a pixel font's) is smoothed first (``smooth_stairs``), so that the pen draws
    its centreline as a line, not as a chain of squares.
    """
    return [
        [to_canvas(smooth_stairs(glyph)) if system.draws(font, label) else None for label, glyph in enumerate(glyphs)]
        for font, glyphs in enumerate(render_exemplars(system.fonts, system.code_points))
    ]


@dataclass(frozen=True)
class Exemplars:
    """What one config's workers draw from: font canvases, seed canvases, and sanitation templates."""

    canvases: list[list[np.ndarray]]
    seeds: list[list[np.ndarray]] | None
    templates: Templates | None

    def synthesizer(self, recipe: A.Compose) -> Synthesizer:
        return Synthesizer(self.canvases, recipe, self.seeds, self.templates)


def templates_for(
    canvases: list[list[np.ndarray | None]],
    seed_images: list[list[np.ndarray]] | None = None,
    recipe: A.Compose | None = None,
) -> Templates:
    """Sanitation templates: every font exemplar as the recipe's pen draws it, and every kept seed.

    A recipe with a ``PenStroke`` redraws each glyph with one pen, so its samples have
    the pen's even strokes, not the font's thick and thin ones. Compared with the fonts' own shapes,
    a sample then looks less like its class than it is, and is redrawn for nothing. So each
    exemplar is traced, undeformed, with a round nib at the thinnest and thickest the pen draws that
    glyph (the range its clearance allows), and those are the class's templates. Without a pen the
    exemplars are taken as they are. Seeds are handwritten already and are taken as they are.
    """
    pen = next((t for t in recipe.transforms if isinstance(t, PenStroke)), None) if recipe is not None else None
    kept = [(canvas, label) for font in canvases for label, canvas in enumerate(font) if canvas is not None]
    if pen is None:
        drawn = [canvas for canvas, _ in kept]
        labels = [label for _, label in kept]
    else:
        tracer = PenStroke(overshoot_p=0.0)
        traced = [
            (tracer.apply(canvas, width=width, ratio=1.0, angle=0.0, end_draws=_NO_DRAWS), label)
            for canvas, label in kept
            for width in sorted(set(pen.width_range(clearance(canvas))))
        ]
        drawn, labels = [image for image, _ in traced], [label for _, label in traced]
    images = [mnist_normalize(canvas) for canvas in drawn]
    for label, seeds in enumerate(seed_images or []):
        images += seeds
        labels += [label] * len(seeds)
    return Templates.from_images(images, labels, len(canvases[0]), REPRESENTATIVES)


# A template's pen runs on no stroke end, so it needs no random draws.
_NO_DRAWS = np.zeros((2, 1))


# Worker processes keep one Synthesizer per config, built once by worker.start.
_synthesizers: dict[str, Synthesizer] = {}


def init_worker(exemplars: dict[str, Exemplars], recipe: dict) -> None:
    cv2.setNumThreads(1)  # the worker processes are the parallelism; OpenCV's own threads would oversubscribe
    _synthesizers.clear()
    for config, config_exemplars in exemplars.items():
        _synthesizers[config] = config_exemplars.synthesizer(A.from_dict(recipe))


def render_chunk(chunk: Chunk) -> Rendered:
    return _synthesizers[chunk.config].render(chunk.labels, chunk.sources, chunk.seed)
