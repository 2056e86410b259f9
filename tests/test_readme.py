"""README.md as a newcomer meets it: every bash and python block, run as written, in order, on tiny sizes.

The blocks run in one bash session, in a copy of the repository (the files git tracks or would track) in a temporary
folder, so that an activation or a file made by one block serves the next. The environment is a newcomer's, with
three differences the README never shows:

- ``AFRO_MNIST_TINY=1`` shrinks the CLI's default sizes, epochs and workers (see ``generator.cli.TINY_ENV``);
- ``HF_ENDPOINT`` and ``HF_TOKEN`` point the Hub steps at the loopback stand-in (tests/hub_stand_in.py), which
  already holds a tiny published build under ``generator.settings.REPO_ID``;
- the checkout's own ``.venv`` stands in for the one ``make`` would build in the copy.

Every fenced block counts, at any indentation (a block inside a list item too). An HTML comment on the line
before a block tells the test what the block is:

    <!-- readme-test: skip (why it cannot run here) -->   not run; the reason is required
    <!-- readme-test: file PATH -->                       a file the reader writes: saved at PATH before the next block

Without a marker, a bash or python block runs, so a new block that fails fails the test, which names the README
line; a text or bibtex block is shown, not run; any other block (no language, toml, sh, ...) is an error that
asks for a marker or a language, so that no command hides from the test behind an info string it ignores.
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
# Blocks that show what something looks like (a folder tree, a citation) and hold nothing to run.
SHOWN = ("text", "bibtex")
_FENCE = re.compile(r"(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)")
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
        language: the fence's info string (``bash``, ``python``, ``text``, or another with a marker).
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
    """Every fenced block of ``text``, at any indentation, with the marker on the nearest non-empty line above its
    fence, if any; a block's text has its fence's indentation removed.

    Raises:
        ValueError: a marker that is neither ``skip (why)`` nor ``file PATH``, one with no block below it, a block
            that neither runs, nor is shown, nor has a marker, or a fence that is never closed.
    """
    lines = text.splitlines()
    blocks, markers_used = [], set()
    index = 0
    while index < len(lines):
        opening = _FENCE.fullmatch(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence, language = len(opening["indent"]), opening["fence"], opening["info"].strip()
        end = index + 1
        while end < len(lines) and not re.fullmatch(rf" *{re.escape(fence[0])}{{{len(fence)},}} *", lines[end]):
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md line {index + 1}: a fence that is never closed")
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
        elif language not in RUNNABLE + SHOWN:
            raise ValueError(
                f"README.md line {index + 1}: a {language or 'plain'} block the test cannot classify: give it the "
                f"language {' or '.join(RUNNABLE + SHOWN)}, or a readme-test marker (skip (why) or file PATH)"
            )
        # As CommonMark reads a fence: each line loses up to the fence's own indentation, no more.
        content = [re.sub(rf"^ {{0,{indent}}}", "", line) for line in lines[index + 1 : end]]
        blocks.append(Block(language, index + 2, "\n".join(content) + "\n", skip, file))
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


def copy_repository(folder: Path) -> set[str]:
    """The files git tracks or would track, as a fresh clone has them, with the checkout's ``.venv`` linked in.

    Returns:
        The paths copied, relative to ``folder``.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copied = set()
    for name in filter(None, listed.split("\0")):
        source = PROJECT_DIR / name
        if source.is_symlink() or source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name, follow_symlinks=False)
            copied.add(name)
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
    return copied


def left_behind(folder: Path, copied: set[str]) -> list[str]:
    """The files in ``folder`` that the README's blocks made and git would not ignore in a checkout."""
    made = []
    for root, _dirs, files in os.walk(folder):  # not into the linked .venv
        for name in files:
            path = (Path(root) / name).relative_to(folder).as_posix()
            if path not in copied and not path.startswith(".readme-test/"):
                made.append(path)
    if not made:
        return []
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=PROJECT_DIR,
        input="\n".join(made) + "\n",
        capture_output=True,
        text=True,
        check=False,  # exit status 1 when none is ignored
    ).stdout.splitlines()
    return sorted(set(made) - set(ignored))


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
    for language in ("", "sh", "toml", "console"):
        with pytest.raises(ValueError, match=r"line 2: a \w+ block the test cannot classify"):
            readme_blocks(f"x\n```{language}\nafro-mnist generate\n```\n")
    with pytest.raises(ValueError, match="line 1: a fence that is never closed"):
        readme_blocks("```bash\ntrue\n")


def test_blocks_inside_lists_are_found_run_and_marked_like_the_others(tmp_path: Path):
    text = (
        "- **Item.** Text.\n\n"
        "  ```bash\n  echo indented > out.txt\n    echo deeper >> out.txt\n  ```\n\n"
        "- Next.\n\n  <!-- readme-test: skip (a server) -->\n  ```bash\n  sleep 1000\n  ```\n\n"
        "   ~~~python\n   open('py.txt', 'w').write('~')\n   ~~~\n"
        "```python\ndef f():\n    return 1\n```\n"
    )
    blocks = readme_blocks(text)
    assert [(b.language, b.line, b.skip) for b in blocks] == [
        ("bash", 4, None),
        ("bash", 12, "a server"),
        ("python", 16, None),
        ("python", 19, None),
    ]
    assert blocks[3].text == "def f():\n    return 1\n", "a block at the margin keeps its own indentation"
    assert blocks[0].text == "echo indented > out.txt\n  echo deeper >> out.txt\n"
    script, _ = bash_script(blocks, tmp_path)
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True, timeout=60, env={"PATH": os.environ["PATH"]})
    assert (tmp_path / "out.txt").read_text() == "indented\ndeeper\n"
    assert (tmp_path / "py.txt").read_text() == "~"


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
    copied = copy_repository(work)
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
    assert not left_behind(work, copied), "files a walk through the README leaves, which .gitignore should list"


def test_font_rebuild_line_installs_every_package_bundle_fonts_needs():
    docstring = (PROJECT_DIR / "scripts" / "bundle_fonts.py").read_text(encoding="utf-8").split('"""')[1]
    needed = {word for line in docstring.splitlines() if "apt-get install" in line for word in line.split()[2:]}
    (block,) = [b for b in readme_blocks(README.read_text(encoding="utf-8")) if "apt-get install" in b.text]
    command = block.text.replace("\\\n", " ").split("\n")[0]
    listed = set(command.split()[2:])
    assert needed, "the script's docstring names its packages"
    assert needed <= listed, f"README's apt-get line lacks {sorted(needed - listed)}"


def test_files_left_behind_are_those_gitignore_does_not_list(tmp_path: Path):
    (tmp_path / "build" / "x").mkdir(parents=True)
    for name in ("README.md", "build/x/a.parquet", "collect.sqlite", "collect.sqlite-wal", "stray.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / ".readme-test").mkdir()
    (tmp_path / ".readme-test" / "README.sh").write_text("x")
    assert left_behind(tmp_path, {"README.md"}) == ["stray.txt"]
