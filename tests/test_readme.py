"""README.md as a newcomer meets it: every bash and python block, run as written, in order, on tiny sizes.

The blocks run in one bash session, in a copy of the repository (the files git tracks or would track) in a temporary
folder, so that an activation or a file made by one block serves the next. The environment is a newcomer's, with
three differences the README never shows:

- ``AFRO_MNIST_TINY=1`` shrinks the CLI's default sizes, epochs and workers (see ``generator.cli.TINY_ENV``);
- ``HF_ENDPOINT`` and ``HF_TOKEN`` point the Hub steps at the loopback stand-in (tests/hub_stand_in.py), which
  already holds a tiny published build under ``generator.settings.REPO_ID``;
- the checkout's own ``.venv`` stands in for the one ``make`` would build in the copy.

An HTML comment on the line before a block tells the test what the block is:

    <!-- readme-test: skip (why it cannot run here) -->   not run; the reason is required
    <!-- readme-test: file PATH -->                       a file the reader writes: saved at PATH before the next block

Every other bash and python block runs, so a new block that fails fails the test, which names the README line.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import settings
from generator.cli import TINY_ENV
from tests.conftest import PROJECT_DIR
from tests.hub_stand_in import WRITE_TOKEN, HubStandIn

README = PROJECT_DIR / "README.md"
RUNNABLE = ("bash", "python")
_MARKER = re.compile(r"<!--\s*readme-test:(?P<body>.*?)-->")
_SKIP = re.compile(r"\s*skip\s+\((?P<why>[^)]+)\)\s*")
_FILE = re.compile(r"\s*file\s+(?P<path>[\w./-]+)\s*")
_FAILED_AT = re.compile(r"README_TEST_FAILED_AT_LINE (\d+)")
_SNIPPET_FILE = ".readme-test/README.md-line-{line}.py"
_TRACEBACK = re.compile(r'File ".*README\.md-line-(\d+)\.py", line (\d+)')


@dataclass(frozen=True)
class Block:
    """One fenced block of the README.

    Attributes:
        language: the fence's info string (``bash``, ``python``, ``toml``, or empty).
        line: the README line of the block's first line of content (1-based).
        text: the block's content.
        skip: why the block is not run, when its marker says so.
        file: where the reader saves the block, when its marker says so.
    """

    language: str
    line: int
    text: str
    skip: str | None = None
    file: str | None = None


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, with the marker on the nearest non-empty line above its fence, if any.

    Raises:
        ValueError: a marker that is neither ``skip (why)`` nor ``file PATH``, or one with no block below it.
    """
    lines = text.splitlines()
    blocks, markers_used = [], set()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("```"):
            index += 1
            continue
        language = lines[index][3:].strip()
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        above = index - 1
        while above >= 0 and not lines[above].strip():
            above -= 1
        skip = file = None
        marker = _MARKER.fullmatch(lines[above].strip()) if above >= 0 else None
        if marker:
            markers_used.add(above)
            skip_match, file_match = _SKIP.fullmatch(marker["body"]), _FILE.fullmatch(marker["body"])
            if skip_match:
                skip = skip_match["why"]
            elif file_match:
                file = file_match["path"]
            else:
                raise ValueError(
                    f"README.md line {above + 1}: {lines[above].strip()!r} is not a marker this test knows"
                )
        blocks.append(Block(language, index + 2, "\n".join(lines[index + 1 : end]) + "\n", skip, file))
        index = end + 1
    for number, line in enumerate(lines):
        if _MARKER.search(line) and number not in markers_used:
            raise ValueError(f"README.md line {number + 1}: a readme-test marker with no block right below it")
    return blocks


def bash_script(blocks: list[Block], folder: Path) -> tuple[str, dict[int, tuple[Block, int]]]:
    """One bash script running ``blocks`` in order, and the README line of each of its lines.

    Python blocks are written to files in ``folder`` and run with the ``python`` on PATH, as a reader pasting
    them into the activated shell's interpreter would.

    Returns:
        The script, and for each script line (1-based) the block it comes from and its README line.
    """
    lines = ["set -eE -o pipefail", "trap 'echo README_TEST_FAILED_AT_LINE $LINENO >&2' ERR"]
    origin: dict[int, tuple[Block, int]] = {}
    for block in blocks:
        if block.skip is not None:
            continue
        if block.file is not None:
            origin[len(lines) + 1] = (block, block.line)
            lines.append(f"mkdir -p {shlex.quote(str(Path(block.file).parent))}")
            origin[len(lines) + 1] = (block, block.line)
            lines.append(f"cat > {shlex.quote(block.file)} <<'README_TEST_EOF'")
            lines += block.text.splitlines()
            lines.append("README_TEST_EOF")
        elif block.language == "bash":
            for offset, line in enumerate(block.text.splitlines()):
                origin[len(lines) + 1] = (block, block.line + offset)
                lines.append(line)
        elif block.language == "python":
            snippet = folder / _SNIPPET_FILE.format(line=block.line)
            snippet.parent.mkdir(parents=True, exist_ok=True)
            snippet.write_text(block.text, encoding="utf-8")
            origin[len(lines) + 1] = (block, block.line)
            lines.append(f"python {shlex.quote(str(snippet.relative_to(folder)))}")
    return "\n".join(lines) + "\n", origin


def failure_report(stderr: str, origin: dict[int, tuple[Block, int]], readme_lines: list[str]) -> str:
    """Which README block and line failed, with that line and the end of stderr."""
    line, block = None, None
    traceback = _TRACEBACK.findall(stderr)
    if traceback:
        start, offset = (int(n) for n in traceback[-1])
        line = start + offset - 1
        block = next((b for b, _ in origin.values() if b.line == start), None)
    else:
        failed_at = _FAILED_AT.findall(stderr)
        if failed_at and int(failed_at[-1]) in origin:
            block, line = origin[int(failed_at[-1])]
    tail = "\n".join(stderr.strip().splitlines()[-40:])
    if line is None or block is None:
        return f"the README's blocks failed, at a line the test could not place; stderr ends:\n{tail}"
    return (
        f"README.md line {line} failed, in the {block.language or 'file'} block that starts at line {block.line}:\n"
        f"    {readme_lines[line - 1].strip()}\n"
        f"Fix the README or the code, or mark the block <!-- readme-test: skip (why) --> if it cannot run here.\n"
        f"stderr ends:\n{tail}"
    )


def copy_repository(folder: Path) -> None:
    """The files git tracks or would track, as a fresh clone has them, with the checkout's ``.venv`` linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_DIR / name
        if source.is_symlink() or source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name, follow_symlinks=False)
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    assert (venv / "bin" / "activate").is_file(), f"run the tests from the project's venv (make test), not {venv}"
    assert stamp.is_file(), f"{stamp} is missing: build the venv with `make venv` first"
    (folder / ".venv").symlink_to(venv)
    # make rebuilds the venv when pyproject.toml or constraints.txt is newer than the stamp; the copy's are as old
    # as the venv, which must never be rebuilt from the copy (its editable install would point there).
    before = stamp.stat().st_mtime - 1
    for name in ("pyproject.toml", "constraints.txt"):
        os.utime(folder / name, (before, before))


def newcomer_environment(home: Path, hub: HubStandIn) -> dict[str, str]:
    venv_bin = (Path(sys.prefix) / "bin").resolve()
    path = [part for part in os.environ.get("PATH", "").split(os.pathsep) if part and Path(part).resolve() != venv_bin]
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING", "VIRTUAL_ENV"))}
    return keep | {
        "PATH": os.pathsep.join(path),
        "HOME": str(home),
        "HF_HOME": str(home / "hf-home"),
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": WRITE_TOKEN,
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        TINY_ENV: "1",
    }


def test_readme_markers_are_understood():
    text = README.read_text(encoding="utf-8")
    assert TINY_ENV not in text, "the README shows the sizes a reader gets, never the test's shrinking"
    blocks = readme_blocks(text)
    assert [block for block in blocks if block.language in RUNNABLE and block.skip is None], "the README has blocks"
    for block in blocks:
        if block.file is not None:
            assert not Path(block.file).is_absolute(), f"README.md line {block.line}: a file inside the repository"
    with pytest.raises(ValueError, match=r"line 1: .* is not a marker"):
        readme_blocks("<!-- readme-test: skp (typo) -->\n```bash\ntrue\n```\n")
    with pytest.raises(ValueError, match="line 1: a readme-test marker with no block"):
        readme_blocks("<!-- readme-test: skip (why) -->\ntext\n```bash\ntrue\n```\n")


def test_failures_name_the_readme_line(tmp_path: Path):
    text = "# t\n\n```bash\ntrue\nfalse\n```\n\n```python\nx = 1\nraise SystemExit(x / 0)\n```\n"
    script, origin = bash_script(readme_blocks(text), tmp_path)
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    report = failure_report(result.stderr, origin, text.splitlines())
    assert report.startswith("README.md line 5 failed, in the bash block that starts at line 4:\n    false")
    traceback = 'Traceback:\n  File "/tmp/x/.readme-test/README.md-line-9.py", line 2, in <module>\nZeroDivisionError\n'
    report = failure_report(traceback, origin, text.splitlines())
    assert report.startswith(
        "README.md line 10 failed, in the python block that starts at line 9:\n    raise SystemExit"
    )


def test_readme_runs_as_written(tmp_path: Path, tiny_build: Path):
    readme = README.read_text(encoding="utf-8")
    blocks = readme_blocks(readme)
    work = tmp_path / "afro-mnist"
    copy_repository(work)
    published = {
        str(path.relative_to(tiny_build)): path.read_bytes() for path in tiny_build.rglob("*") if path.is_file()
    }
    with HubStandIn() as hub:
        hub.create_repo(settings.REPO_ID, files=published)
        script, origin = bash_script(blocks, work)
        (work / ".readme-test").mkdir(exist_ok=True)
        (work / ".readme-test" / "README.sh").write_text(script, encoding="utf-8")
        result = subprocess.run(
            ["bash", ".readme-test/README.sh"],
            cwd=work,
            env=newcomer_environment(tmp_path / "home", hub),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, failure_report(result.stderr, origin, readme.splitlines())
        # The Hub steps reached the stand-in: the README's pushes are its commits, tamil among the configs.
        assert len(hub.commits) >= 3
        assert "tamil/metadata.json" in hub.files(settings.REPO_ID)


def test_font_rebuild_line_installs_every_package_bundle_fonts_needs():
    docstring = (PROJECT_DIR / "scripts" / "bundle_fonts.py").read_text(encoding="utf-8").split('"""')[1]
    needed = {word for line in docstring.splitlines() if "apt-get install" in line for word in line.split()[2:]}
    (block,) = [b for b in readme_blocks(README.read_text(encoding="utf-8")) if "apt-get install" in b.text]
    command = block.text.replace("\\\n", " ").split("\n")[0]
    listed = set(command.split()[2:])
    assert needed, "the script's docstring names its packages"
    assert needed <= listed, f"README's apt-get line lacks {sorted(needed - listed)}"
