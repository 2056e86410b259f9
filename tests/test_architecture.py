"""The package's layers, read from its imports: data flows down one way, and no module imports itself back.

    generator.cli                          the command line, on top
    generator.generate, generator.collect  a run of generation; the collection of real handwriting
    generator.evaluation                   baselines, real handwriting, stats, figures
    generator.repository                   shards, the card and root files, publishing, reading back
    generator.synthesis                    fonts and seeds in, finished images out
    errors, layout, settings               shared by all, importing nothing of the package's

``registry`` shares synthesis's layer: synthesis reads numeral systems from it, and it expands a spec's font globs
with ``synthesis.numerals`` (the cycle test keeps the two apart). Every import counts, at module level, inside a
function or under TYPE_CHECKING. Package data (the builder script in ``dataset_repository/``) is not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import generator

PACKAGE_DIR = Path(generator.__file__).parent
# Each layer may import only the layers after it in this list (and itself); the shared modules come last.
LAYERS = (
    ("generator.cli", "generator.__main__"),
    ("generator.generate", "generator.collect"),
    ("generator.evaluation",),
    ("generator.repository",),
    ("generator.synthesis", "generator.registry"),
    ("generator.errors", "generator.layout", "generator.settings", "generator"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# The builder script is package data, published to the Hub and run there by `datasets`; not a module of the package.
DATA_DIRS = ("dataset_repository", "numeral_systems")
MODULES = {
    module_name(path): path
    for path in sorted(PACKAGE_DIR.rglob("*.py"))
    if path.relative_to(PACKAGE_DIR).parts[0] not in DATA_DIRS
}


def imports(module: str) -> list[tuple[str, int]]:
    """The package's modules that ``module`` imports, each with the line of the import, in any scope."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # ``from generator.synthesis import fonts`` imports the module fonts; ``from x import name``, x itself.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        found += [(target, node.lineno) for target in targets if target in MODULES and target != module]
    return found


GRAPH = {module: imports(module) for module in MODULES}


def layer(module: str) -> int:
    """The index in LAYERS of the most specific entry that names ``module`` or a package above it."""
    best = None
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best[1])):
                best = (index, name)
    assert best is not None, f"{module} belongs to no layer; add it to LAYERS in {__file__}"
    return best[0]


def where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(PACKAGE_DIR.parent)}:{line}"


def test_every_module_is_read():
    assert {"generator.cli", "generator.synthesis.synthesizer", "generator.repository.card"} <= set(MODULES)
    assert ("generator.synthesis.fonts", 0) not in GRAPH["generator.registry"], "imports are read with their lines"
    assert any(target == "generator.synthesis.fonts" for target, _ in GRAPH["generator.synthesis.synthesizer"])


def test_data_flows_down_one_way():
    upward = [
        f"{where(module, line)}: {module} imports {target}, a layer above it"
        for module, targets in GRAPH.items()
        for target, line in targets
        if layer(target) < layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle():
    # Depth-first search; a module met again while still on the path closes a cycle.
    state: dict[str, str] = {}
    path: list[tuple[str, int]] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        for target, line in GRAPH[module]:
            path.append((module, line))
            if state.get(target) == "open":
                start = next(i for i, (name, _) in enumerate(path) if name == target)
                return [f"{where(name, at)}: {name} imports" for name, at in path[start:]] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
            path.pop()
        state[module] = "done"
        return None

    for module in MODULES:
        if module not in state and (cycle := visit(module)):
            raise AssertionError("an import cycle:\n" + "\n".join(cycle))
