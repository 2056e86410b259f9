"""Which numeral the page asks a writer for next: each one once before any twice, the rarest first.

A writer is asked every numeral of a script they have not declined before any numeral a second time
(balance within the writer); among those, the numeral the whole database holds fewest of (balance
across writers). A numeral is not asked twice in a row unless it is the only one left, and one the
writer said they do not know is never asked again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def choose_class(
    counts: Sequence[int],
    unknown: set[int],
    after: int | None,
    rng: random.Random,
    mine: Sequence[int] | None = None,
) -> int | None:
    """The class to ask for next, or None when the writer knows none of the classes.

    Args:
        counts: drawings of each class in the whole database.
        unknown: classes the writer said they do not know.
        after: the class just shown, not asked again at once while another is left.
        rng: breaks the remaining ties.
        mine: the writer's own drawings of each class; the classes they drew least come first.
    """
    candidates = [label for label in range(len(counts)) if label not in unknown]
    if len(candidates) > 1 and after in candidates:
        candidates.remove(after)
    if not candidates:
        return None
    if mine is not None:
        least = min(mine[label] for label in candidates)
        candidates = [label for label in candidates if mine[label] == least]
    fewest = min(counts[label] for label in candidates)
    return rng.choice([label for label in candidates if counts[label] == fewest])
