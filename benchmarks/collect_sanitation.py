"""What the collection's anomaly model flags among planted drawings, and why: docs/collect-sanitation.md.

    .venv/bin/python benchmarks/collect_sanitation.py [--writers 20] [--out docs/collect-sanitation.md]

For Vai and Ge'ez, twice: at a campaign's start (the fonts are all the model knows) and after a reviewer
accepted every numeral of six writers. Planted: genuine numerals in writers' hands (the fonts' numerals
traced and drawn with each writer's slant, size and tremor: tests/collect_drawings.py), a correct
numeral in an unusual hand, bars, dots, scribbles, and Latin digits (hand-placed lines and arcs) filed
under each numeral of the script. Also the poisoning of issue 27: twelve bars labelled 8 from twelve
sessions, and whether they change the verdict on any genuine drawing (they cannot: drawings awaiting a
decision never shape the reference). Everything is drawn by this script; nothing is read from disk
but the bundled fonts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.collect.anomaly import Reference, font_images, planted_report
from generator.collect.drawing import CANVAS
from generator.collect.storage import ACCEPTED, NEW, Drawing
from generator.registry import builtin_systems
from tests.collect_drawings import LATIN_DIGITS, bar, dot, draw_numeral, latin_digit, scribble, unusual_hand

ACCEPTED_WRITERS = 6
HEADER = """# Sanitation of collected drawings, on planted cases

What `afro-mnist collect`'s anomaly model (`generator/collect/anomaly.py`) flags, and why, in the words a
reviewer reads on the review page. Made by `benchmarks/collect_sanitation.py` (every drawing is made by
the script: the bundled fonts' numerals traced and drawn in a writer's hand, and hand-placed lines and
arcs for the Latin digits); rerun it to refresh this page.

The model learns what a class looks like from the font exemplars and the drawings a reviewer accepted,
each writer once. Drawings awaiting a decision never shape it: that is why twelve planted sessions change
no verdict below. Each config is shown twice: at a campaign's start, when the fonts are all the model
knows, and after a reviewer accepted every numeral of six writers. At the start, traced Vai 8s resemble the
fonts' 0 more than their 8 and are flagged; accepting a few writers' 8s teaches the model that hand, and
the next ones pass. A flag is a request for a look, not a verdict: flagged drawings wait for a reviewer,
who accepts or rejects them (in bulk where many are alike).
"""


def drawing(config: str, label: int, strokes: list, session: str, status: str = NEW, number: int = 0) -> Drawing:
    return Drawing(number, config, label, session, "", "touch", CANVAS, strokes, b"", status)


def cases(system, writers: int) -> dict[str, list[Drawing]]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2027)
    name, classes = system.name, range(system.num_classes)
    fonts = len(system.fonts)
    latin = [
        (digit, label)
        for digit in LATIN_DIGITS
        for label in classes
        if not (name == "vai" and system.class_names[label] == digit)  # Vai 8 is drawn much as a Latin 8
    ]
    return {
        "genuine numerals": [
            drawing(name, c, draw_numeral(system, c, np.random.default_rng(100 + w), font=w % fonts), f"g{w}")
            for w in range(writers)
            for c in classes
        ],
        "correct, unusual hand": [drawing(name, c, unusual_hand(system, c, rng), "u") for c in classes],
        "bar": [drawing(name, c, bar(rng), f"b{c}") for c in classes],
        "dot": [drawing(name, c, dot(rng), f"d{c}") for c in classes],
        "scribble": [drawing(name, c, scribble(rng), f"s{c}") for c in classes],
        "Latin digit for another numeral": [drawing(name, c, latin_digit(d, rng), f"l{d}") for d, c in latin],
    }


def measure(writers: int) -> list[str]:
    systems = builtin_systems()
    lines = []
    for config in ("vai", "geez"):
        system = systems[config]
        fonts = font_images(system)
        accepted = [
            drawing(
                config,
                c,
                draw_numeral(system, c, np.random.default_rng(500 + w), font=w % len(system.fonts)),
                f"a{w}",
                ACCEPTED,
                n,
            )
            for w in range(ACCEPTED_WRITERS)
            for n, c in enumerate(range(system.num_classes), start=1000 * (w + 1))
        ]
        planted = cases(system, writers)
        for known, label in (([], "the fonts only"), (accepted, f"fonts and {ACCEPTED_WRITERS} accepted writers")):
            started = time.perf_counter()
            reference = Reference.build(system, known, fonts)
            rows = planted_report(reference, planted)
            seconds = time.perf_counter() - started
            count = sum(row["drawings"] for row in rows)
            lines += [
                f"### {system.script} (`{config}`), reference: {label}",
                "",
                "| planted | drawings | flagged | why |",
                "| --- | ---: | ---: | --- |",
            ]
            for row in rows:
                why = "; ".join(f"{kind} {n}" for kind, n in row["kinds"].items())
                lines.append(f"| {row['case']} | {row['drawings']} | {row['flagged']} | {why} |")
            lines += ["", "Examples of the reasons a reviewer reads:", ""]
            lines += [f"- {row['case']}: {row['example']}" for row in rows if row["example"]]
            lines += ["", f"({count} verdicts in {seconds:.1f} s, {1000 * seconds / count:.1f} ms each.)", ""]
        lines += poisoning(system, accepted, fonts)
    return lines


def poisoning(system, accepted: list[Drawing], fonts) -> list[str]:  # type: ignore[no-untyped-def]
    """Twelve bars labelled 8 from twelve sessions: flagged? and does any genuine verdict change?"""
    eight = system.class_names.index("8")
    rng = np.random.default_rng(12)
    bars = [drawing(system.name, eight, bar(rng), f"vandal-{i}", NEW, 9000 + i) for i in range(12)]
    genuine = [
        drawing(
            system.name, c, draw_numeral(system, c, np.random.default_rng(300 + w), font=w % len(system.fonts)), "h"
        )
        for w in range(10)
        for c in range(system.num_classes)
    ]
    lines = [
        f"Poisoning, {system.script}: twelve bars labelled {system.characters[eight]} (8) from twelve sessions.",
        "",
    ]
    for known, label in (([], "fonts only"), (accepted, f"{ACCEPTED_WRITERS} accepted writers")):
        clean = Reference.build(system, known, fonts)
        poisoned = Reference.build(system, known + bars, fonts)  # bars awaiting a decision: ignored by build
        flagged_bars = sum(poisoned.verdict(b).flagged for b in bars)
        changed = sum(clean.verdict(d).reason != poisoned.verdict(d).reason for d in genuine)
        lines.append(
            f"- {label}: {flagged_bars} of 12 bars flagged; {changed} of {len(genuine)} genuine verdicts changed"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=20, help="genuine writers per class (default: 20)")
    parser.add_argument("--out", type=Path, help="write the report here (markdown) as well as printing it")
    args = parser.parse_args()
    text = "\n".join([*HEADER.splitlines(), "", *measure(args.writers)])
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
