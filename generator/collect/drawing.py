"""A drawing as the page sends it: validation, a PNG rendering, a 28x28 image and Quick, Draw!'s simplified strokes.

The page draws on a square canvas of ``CANVAS`` units a side, whatever its size on screen, and sends

    {"config": "geez", "label": 3, "pointer": "touch", "submission": "5f0c...",
     "strokes": [[[x, y, t, pressure], ...], ...]}

with x and y in ``0 .. CANVAS``, t in milliseconds since the drawing's first point, and pressure in
``0 .. 1``. ``submission`` (optional) is an id the page makes for each drawing, 8 to 64 letters, digits,
``-`` or ``_``: posting the same one again returns the first post's answer and stores nothing. ``parse_submission``
refuses anything else with a ``SubmissionError`` that names the field, hostile JSON included (nesting
too deep for the parser, numbers too long to convert).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import cv2
import numpy as np

from generator.registry import NumeralSystem
from generator.synthesis.normalize import EmptyImageError, mnist_normalize

CANVAS = 1000
# Limits on one drawing. A numeral takes a handful of strokes and a few hundred points; these are
# generous for any hand, and keep one request's work small.
MAX_STROKES = 40
MAX_POINTS = 4000
MAX_MILLISECONDS = 10 * 60 * 1000
POINTER_TYPES = ("mouse", "pen", "touch")
# The stored rendering: dark ink on white paper, as a scan would look, with a pen as wide as a
# fingertip's line on the page's canvas.
PNG_SIZE = 256
PEN_WIDTH = 28  # canvas units
_SUBMISSION_KEYS = {"config", "label", "pointer", "strokes"}
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class SubmissionError(ValueError):
    """A drawing the page should never send: the message names the field and the limit."""


@dataclass(frozen=True)
class Submission:
    config: str
    label: int
    pointer: str
    strokes: list[list[list[float]]]
    submission: str | None = None


def load_json(body: bytes) -> object:
    """``json.loads``, with every way hostile JSON can fail turned into a ``SubmissionError``.

    Besides malformed text: nesting deeper than the parser's recursion (``[`` 100,000 times) and an
    integer of more than Python's 4,300 digits are refused here; a long integer that does parse is
    refused later, by the field's own check.
    """
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SubmissionError(f"body is not JSON ({exc.__class__.__name__})") from None
    except RecursionError:
        raise SubmissionError("body is not JSON (nested too deeply)") from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise SubmissionError("body is not JSON (a number too long)") from None


def parse_submission(body: bytes, systems: dict[str, NumeralSystem]) -> Submission:
    """Checks a drawing's JSON against the served configs and the limits.

    Raises:
        SubmissionError: malformed JSON, an unknown config or class, too many strokes or points, a
            coordinate, time or pressure out of range.
    """
    data = load_json(body)
    if not isinstance(data, dict) or set(data) - {"submission"} != _SUBMISSION_KEYS:
        raise SubmissionError(
            f"body must be an object with exactly the keys {sorted(_SUBMISSION_KEYS)}, and optionally submission"
        )
    submission = data.get("submission")
    if submission is not None and not (isinstance(submission, str) and SUBMISSION_ID.fullmatch(submission)):
        raise SubmissionError("submission must be 8 to 64 letters, digits, - or _")
    config, label = check_class(data["config"], data["label"], systems)
    pointer = data["pointer"]
    if pointer not in POINTER_TYPES:
        raise SubmissionError(f"pointer must be one of {POINTER_TYPES}")
    strokes = data["strokes"]
    if not isinstance(strokes, list) or not 1 <= len(strokes) <= MAX_STROKES:
        raise SubmissionError(f"strokes must be a list of 1 to {MAX_STROKES} strokes")
    total = 0
    clean: list[list[list[float]]] = []
    for stroke in strokes:
        if not isinstance(stroke, list) or not stroke:
            raise SubmissionError("each stroke must be a non-empty list of points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise SubmissionError(f"a drawing holds at most {MAX_POINTS} points")
        clean.append([_point(point) for point in stroke])
    return Submission(config, label, pointer, clean, submission)


def check_class(config: object, label: object, systems: dict[str, NumeralSystem]) -> tuple[str, int]:
    """``(config, label)`` when the config is served and the label is one of its classes."""
    if not isinstance(config, str) or config not in systems:
        raise SubmissionError(f"config must be one of {sorted(systems)}")
    if not isinstance(label, int) or isinstance(label, bool) or not 0 <= label < systems[config].num_classes:
        raise SubmissionError(f"label must be a class index of {config}, 0 to {systems[config].num_classes - 1}")
    return config, label


def _point(point: object) -> list[float]:
    if not isinstance(point, list) or len(point) != 4:
        raise SubmissionError("each point must be [x, y, t, pressure]")
    for value in point:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SubmissionError("point values must be finite numbers")
        # An integer such as 1 followed by 400 zeros is too large for a float: math.isfinite would raise.
        if (isinstance(value, int) and abs(value) > 10**15) or not math.isfinite(value):
            raise SubmissionError("point values must be finite numbers")
    x, y, t, pressure = point
    if not (0 <= x <= CANVAS and 0 <= y <= CANVAS):
        raise SubmissionError(f"x and y must lie in 0..{CANVAS}")
    if not 0 <= t <= MAX_MILLISECONDS:
        raise SubmissionError(f"t must lie in 0..{MAX_MILLISECONDS} milliseconds")
    if not 0 <= pressure <= 1:
        raise SubmissionError("pressure must lie in 0..1")
    # Rounded: a tenth of a canvas unit is finer than any screen, and keeps the stored JSON small.
    return [round(float(x), 1), round(float(y), 1), round(float(t), 1), round(float(pressure), 3)]


# --- pictures of a drawing ---------------------------------------------------------------------------------------


def render(strokes: list, size: int = PNG_SIZE, canvas_size: int = CANVAS) -> np.ndarray:
    """The strokes as white ink on black, ``size`` x ``size`` ``uint8``, antialiased, with round pen ends."""
    scale = size / canvas_size
    shift = 4  # OpenCV's sub-pixel coordinates: 4 fractional bits
    thickness = max(1, round(PEN_WIDTH * scale))
    image = np.zeros((size, size), np.uint8)
    for stroke in strokes:
        points = np.round(np.asarray([[p[0], p[1]] for p in stroke], np.float64) * scale * (1 << shift))
        points = points.astype(np.int32)
        if len(points) == 1 or (points == points[0]).all():
            cv2.circle(image, tuple(points[0]), (thickness << shift) // 2, 255, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(image, [points], False, 255, thickness, cv2.LINE_AA, shift)
    return image


def png_bytes(strokes: list, canvas_size: int = CANVAS) -> bytes:
    """The stored rendering: dark ink on white, as a scan of paper would be."""
    ok, encoded = cv2.imencode(".png", 255 - render(strokes, canvas_size=canvas_size))
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def mnist_image(strokes: list, canvas_size: int = CANVAS) -> np.ndarray:
    """The drawing as a 28x28 MNIST image: the rendering, already clean white ink on black, normalised.

    A scan or photo of paper first needs ``generator.synthesis.handwriting.clean_real_image`` (polarity, paper,
    specks); a rendering of strokes has no paper to remove. All black when it holds no ink.
    """
    try:
        return mnist_normalize(render(strokes, canvas_size=canvas_size))
    except EmptyImageError:
        return np.zeros((28, 28), np.uint8)


def simplified(strokes: list, epsilon: float = 2.0) -> list[list[list[int]]]:
    """Quick, Draw!'s simplified strokes: aligned to the top left, scaled so the drawing's longer side is
    255, Ramer-Douglas-Peucker with ``epsilon`` = 2, integer coordinates; ``[[xs, ys], ...]``.
    """
    points = np.asarray([[p[0], p[1]] for stroke in strokes for p in stroke], np.float64)
    low = points.min(axis=0)
    extent = max(float((points.max(axis=0) - low).max()), 1e-9)
    result = []
    for stroke in strokes:
        xy = (np.asarray([[p[0], p[1]] for p in stroke], np.float64) - low) * (255 / extent)
        kept = np.round(_rdp(xy, epsilon)).astype(int)
        result.append([kept[:, 0].tolist(), kept[:, 1].tolist()])
    return result


def _rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer-Douglas-Peucker: the points a polyline keeps when every dropped one lies within ``epsilon``."""
    if len(points) < 3:
        return points
    start, end = points[0], points[-1]
    direction = end - start
    length = float(np.hypot(*direction))
    offsets = points[1:-1] - start
    if length == 0:
        distances = np.hypot(offsets[:, 0], offsets[:, 1])
    else:
        distances = np.abs(direction[0] * offsets[:, 1] - direction[1] * offsets[:, 0]) / length
    farthest = int(distances.argmax())
    if distances[farthest] <= epsilon:
        return np.stack([start, end])
    split = farthest + 1
    left = _rdp(points[: split + 1], epsilon)
    right = _rdp(points[split:], epsilon)
    return np.concatenate([left[:-1], right])
