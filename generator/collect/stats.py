"""How a collection campaign stands, for its organiser: ``collection_stats``, and ``afro-mnist collect stats``.

The organiser's page (behind the review token) and the terminal show the same figures: drawings per
config, class and writer, progress to a goal, the flagged and rejected shares, the sessions whose
drawings are mostly flagged (a vandal, or a writer the model misjudges: either way worth a look), and
the commands that export the collection. Writers are named by their public hash (``export.writer_id``),
never their session id. Figures come from one grouped query over the stored verdicts; nothing is
rescored here.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.collect.export import writer_id
from generator.collect.settings import DEFAULT_CLASS_GOAL, FORMATS
from generator.collect.storage import ACCEPTED, NEW, REJECTED, Storage
from generator.registry import NumeralSystem

# A session is listed as mostly flagged when at least this share of at least MIN_SUSPECT drawings is flagged.
SUSPECT_SHARE = 0.5
MIN_SUSPECT = 3


def collection_stats(
    storage: Storage, systems: Sequence[NumeralSystem], *, class_goal: int = DEFAULT_CLASS_GOAL, db: str = ""
) -> dict:
    """The campaign's figures, for the organiser's page and ``collect stats``.

    Args:
        class_goal: drawings wanted of each class of each config.
        db: the ``--db`` value to put in the export commands.

    Returns:
        ``{"configs": [...], "writers": [...], "suspects": [...], "deleted_by_writers": int, "exports": [...],
        "class_goal": int}``. Each config: ``config``, ``script``, ``drawings``, ``usable`` (accepted, or new
        and not flagged), ``accepted``, ``rejected``, ``flagged`` (new and flagged: awaiting review),
        ``flagged_share``, ``rejected_share`` (of all its drawings), ``writers``, ``goal`` (class_goal times
        its classes), ``progress`` (usable drawings, each class counted up to the goal, over the goal) and
        ``classes``: ``label``, ``class_name``, ``character``, ``drawings``, ``usable``, ``flagged``,
        ``rejected``, ``progress``. Each writer: ``writer`` (public id), ``drawings``, ``flagged``,
        ``rejected``, ``configs``; the most prolific first. ``suspects``: the writers whose drawings are at
        least ``SUSPECT_SHARE`` flagged or rejected, of at least ``MIN_SUSPECT`` drawings. ``exports``:
        ``{"format", "command"}`` for each export format.
    """
    served = {system.name: system for system in systems}
    configs: dict[str, dict] = {}
    writers: dict[str, dict] = {}
    for row in storage.tallies():
        system = served.get(row["config"])
        if system is None or not 0 <= row["label"] < system.num_classes:
            continue
        config = configs.setdefault(row["config"], _config_entry(system, class_goal))
        entry = config["classes"][row["label"]]
        count, flagged = int(row["drawings"]), int(row["flagged"])
        usable = count if row["status"] == ACCEPTED else (count - flagged if row["status"] == NEW else 0)
        for target in (config, entry):
            target["drawings"] += count
            target["usable"] += usable
            target["rejected"] += count if row["status"] == REJECTED else 0
            target["flagged"] += flagged if row["status"] == NEW else 0
        config["accepted"] += count if row["status"] == ACCEPTED else 0
        config["_writers"].add(row["session"])
        writer = writers.setdefault(
            row["session"], {"writer": writer_id(row["session"]), "drawings": 0, "flagged": 0, "rejected": 0}
        )
        writer.setdefault("_configs", set()).add(row["config"])
        writer["drawings"] += count
        writer["flagged"] += flagged if row["status"] == NEW else 0
        writer["rejected"] += count if row["status"] == REJECTED else 0
    for config in configs.values():
        config["writers"] = len(config.pop("_writers"))
        config["flagged_share"] = _share(config["flagged"], config["drawings"])
        config["rejected_share"] = _share(config["rejected"], config["drawings"])
        for entry in config["classes"]:
            entry["progress"] = min(1.0, entry["usable"] / class_goal)
        config["progress"] = sum(min(e["usable"], class_goal) for e in config["classes"]) / config["goal"]
    listed = []
    for writer in writers.values():
        writer["configs"] = sorted(writer.pop("_configs"))
        listed.append(writer)
    listed.sort(key=lambda w: (-w["drawings"], w["writer"]))
    suspects = [
        w
        for w in listed
        if w["drawings"] >= MIN_SUSPECT and (w["flagged"] + w["rejected"]) / w["drawings"] >= SUSPECT_SHARE
    ]
    where = f"--db {db} " if db else ""
    return {
        "configs": [configs[name] for name in sorted(configs)],
        "writers": listed,
        "suspects": suspects,
        "deleted_by_writers": storage.deleted_drawings(),
        "class_goal": class_goal,
        "exports": [
            {"format": f, "command": f"afro-mnist collect export {where}--out collected --format {f}"} for f in FORMATS
        ],
    }


def _config_entry(system: NumeralSystem, class_goal: int) -> dict:
    zero = {"drawings": 0, "usable": 0, "flagged": 0, "rejected": 0}
    return {
        "config": system.name,
        "script": system.script,
        **zero,
        "accepted": 0,
        "goal": class_goal * system.num_classes,
        "_writers": set(),
        "classes": [
            {"label": label, "class_name": name, "character": system.characters[label], **zero}
            for label, name in enumerate(system.class_names)
        ],
    }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def stats_text(stats: dict) -> str:
    """``collection_stats`` as ``afro-mnist collect stats`` prints it."""
    lines = []
    if not stats["configs"]:
        lines.append("no drawings yet")
    for config in stats["configs"]:
        lines.append(
            f"{config['config']} ({config['script']}): {config['drawings']} drawings by {config['writers']} writers, "
            f"{config['usable']} usable, {config['progress']:.0%} of the goal ({config['goal']}); "
            f"flagged awaiting review {config['flagged']} ({config['flagged_share']:.0%}), "
            f"rejected {config['rejected']} ({config['rejected_share']:.0%}), accepted {config['accepted']}"
        )
        lines.append("  class     drawings  usable  flagged  rejected  progress")
        for entry in config["classes"]:
            lines.append(
                f"  {entry['class_name']:>5} {entry['character']:<3} {entry['drawings']:>8} {entry['usable']:>7} "
                f"{entry['flagged']:>8} {entry['rejected']:>9} {entry['progress']:>9.0%}"
            )
    lines.append(f"writers: {len(stats['writers'])}; drawings deleted by their writers: {stats['deleted_by_writers']}")
    for writer in stats["writers"][:10]:
        lines.append(
            f"  {writer['writer']}  {writer['drawings']:>5} drawings, {writer['flagged']} flagged, "
            f"{writer['rejected']} rejected ({', '.join(writer['configs'])})"
        )
    if len(stats["writers"]) > 10:
        lines.append(f"  ... and {len(stats['writers']) - 10} more")
    lines.append(f"mostly flagged or rejected: {len(stats['suspects'])} writer(s)")
    for writer in stats["suspects"]:
        share = (writer["flagged"] + writer["rejected"]) / writer["drawings"]
        lines.append(f"  {writer['writer']}  {share:.0%} of {writer['drawings']} drawings")
    lines.append("exports:")
    lines += [f"  {export['command']}" for export in stats["exports"]]
    return "\n".join(lines)
