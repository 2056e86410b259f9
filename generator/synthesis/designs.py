"""Design check: flags a font whose glyph for a class does not look like the other designs of that class.

A wrong design (a font that draws zero as an "X", a swapped pair of digits, a placeholder) would
teach a model that a class looks like something else. Every glyph is compared with every other
glyph of the system as sanitation compares a handwritten seed with the rest (the same blurred
correlation, ``generator.synthesis.sanitation.Templates``, each glyph left out of its own comparison):

- its **own score**: the best correlation with another design of its class;
- its **margin**: its own score less the best correlation with a design of another class.

A glyph is flagged when it is *mislabelled* by sanitation's rule (another class beats its own by
more than ``MARGIN``) *and* both its own score and its margin are outliers of the system: more than
``SCRIBBLE_Z`` robust standard deviations (median and MAD) below the medians of all its glyphs.
Numerals of one script often resemble each other (Ge'ez numerals differ by a small sign, Tamil six
and nine share a shape), so "mislabelled" alone would flag many good designs; the outlier tests keep
only what stands apart from how this script's designs normally agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.synthesis.glyph import traced_structure
from generator.synthesis.normalize import mnist_normalize, to_canvas
from generator.synthesis.sanitation import MARGIN, SCRIBBLE_Z, STRUCTURE_TOLERANCE, Templates, robust_z

# A robust spread is never taken as less than this much correlation, so that a script whose designs
# agree almost perfectly does not flag a glyph for a small difference.
_MIN_SPREAD = 0.02


@dataclass(frozen=True)
class DesignFlag:
    """One glyph that does not look like its class.

    Attributes:
        font: index of the font in the list checked.
        label: the class it is drawn for.
        rival: the class it resembles more.
        own: its best correlation with another design of its class.
        rival_score: its best correlation with a design of ``rival``.
        own_z, margin_z: how many robust standard deviations its own score and margin lie below the system's medians.
    """

    font: int
    label: int
    rival: int
    own: float
    rival_score: float
    own_z: float
    margin_z: float

    def reason(self, class_names: tuple[str, ...] | list[str]) -> str:
        return (
            f"class {class_names[self.label]} looks like class {class_names[self.rival]} "
            f"(r={self.rival_score:.2f}) more than like the other designs of its class (r={self.own:.2f}); "
            f"{self.own_z:.1f} and {self.margin_z:.1f} robust SDs below the script's usual agreement"
        )


def _robust_z_below(values: np.ndarray) -> np.ndarray:
    """How many robust standard deviations each value lies below the median (negative above it)."""
    return -robust_z(values, values, _MIN_SPREAD)


@dataclass(frozen=True)
class StructureFlag:
    """A glyph drawn in more pieces than its class's designs usually are: no pen draws it so.

    Attributes:
        font: index of the font in the list checked.
        label: the class it is drawn for.
        pieces: the pieces of its centreline, traced with a thin pen.
        usual: the median of that count over the class's designs.
    """

    font: int
    label: int
    pieces: int
    usual: float

    def reason(self, class_names: tuple[str, ...] | list[str]) -> str:
        return (
            f"class {class_names[self.label]} is drawn in {self.pieces} pieces where its designs usually have "
            f"{self.usual:g}: an inline, outline or dotted drawing, whose centreline is no pen's line"
        )


def structure_flags(glyphs: list[list[np.ndarray | None]]) -> list[StructureFlag]:
    """The glyphs whose traced centreline is in more pieces than their class's designs usually are.

    A glyph more than ``STRUCTURE_TOLERANCE`` pieces beyond the median of its class's designs draws its
    class as no pen does: a hollow inline face traces into two broken lines, a dotted one into specks.
    With fewer than three designs there is no usual count to compare with.
    """
    if len(glyphs) < 3:
        return []
    pieces = [[None if glyph is None else traced_structure(to_canvas(glyph))[0] for glyph in row] for row in glyphs]
    flags = []
    for label in range(len(glyphs[0])):
        counts = [row[label] for row in pieces if row[label] is not None]
        usual = float(np.median(counts))
        flags += [
            StructureFlag(font, label, row[label], usual)
            for font, row in enumerate(pieces)
            if row[label] is not None and row[label] - usual > STRUCTURE_TOLERANCE
        ]
    return flags


def design_flags(glyphs: list[list[np.ndarray]]) -> list[DesignFlag]:
    """The glyphs of ``[font][label]`` rendered ``glyphs`` that do not look like their class.

    Glyphs are cropped ink of any size (``generator.synthesis.fonts.render_glyph``); ``None`` marks a glyph
    left out (it is neither checked nor compared with). With fewer than three designs a class has no
    "other designs" to agree on, and nothing is flagged.
    """
    if len(glyphs) < 3:
        return []
    num_classes = len(glyphs[0])
    places = [(font, label) for font, row in enumerate(glyphs) for label, glyph in enumerate(row) if glyph is not None]
    images = [mnist_normalize(glyphs[font][label]) for font, label in places]
    templates = Templates.from_images(images, [label for _, label in places], num_classes)
    own = np.empty(len(places))
    rival_scores = np.empty(len(places))
    rivals = np.empty(len(places), np.int64)
    for index, (image, (_, label)) in enumerate(zip(images, places, strict=True)):
        scores = templates.class_scores(image, exclude=index)
        own[index] = scores[label]
        scores[label] = -np.inf
        rivals[index] = int(scores.argmax())
        rival_scores[index] = scores[rivals[index]]
    margins = own - rival_scores
    own_z, margin_z = _robust_z_below(own), _robust_z_below(margins)
    flagged = (margins < -MARGIN) & (own_z > SCRIBBLE_Z) & (margin_z > SCRIBBLE_Z)
    return [
        DesignFlag(
            font=places[i][0],
            label=places[i][1],
            rival=int(rivals[i]),
            own=float(own[i]),
            rival_score=float(rival_scores[i]),
            own_z=float(own_z[i]),
            margin_z=float(margin_z[i]),
        )
        for i in np.flatnonzero(flagged)
    ]
