"""The code in docs/quickstart.md runs and prints what the page says it prints.

Every ```python block not starting with ``# not run`` is executed, in order,
in one namespace (the page's examples build on each other).  When a ```text
block follows a python block, it is the exact output of that block.  Blocks
marked ``# not run`` must still compile.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parent.parent / "docs" / "quickstart.md"
NOT_RUN = "# not run"

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)


def code_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(line number, python source, expected output or None) for each python block."""
    fences = [(m.start(), m.end(), m.group(1), m.group(2)) for m in _FENCE.finditer(text)]
    blocks = []
    for i, (start, end, lang, body) in enumerate(fences):
        if lang != "python":
            continue
        expected = None
        if i + 1 < len(fences):
            n_start, _, n_lang, n_body = fences[i + 1]
            if n_lang == "text" and not text[end:n_start].strip():
                expected = n_body
        blocks.append((text.count("\n", 0, start) + 1, body, expected))
    return blocks


BLOCKS = code_blocks(QUICKSTART.read_text(encoding="utf-8"))


def test_the_page_has_examples_to_run() -> None:
    runnable = [b for b in BLOCKS if not b[1].startswith(NOT_RUN)]
    assert len(runnable) >= 10
    # Nearly every example shows its output, so the page cannot drift silently.
    assert sum(b[2] is not None for b in runnable) >= len(runnable) - 2


def test_not_run_blocks_compile() -> None:
    for line, source, _ in BLOCKS:
        if source.startswith(NOT_RUN):
            # The fragment may use ``return`` at top level: compile it as a body.
            body = "def _fragment():\n" + "".join("    " + s for s in source.splitlines(True))
            compile(body, f"{QUICKSTART.name}:{line}", "exec")


def test_quickstart_examples_run_and_print_what_the_page_shows() -> None:
    namespace: dict[str, object] = {"__name__": "quickstart"}
    for line, source, expected in BLOCKS:
        if source.startswith(NOT_RUN):
            continue
        out = io.StringIO()
        code = compile(source, f"{QUICKSTART.name}:{line}", "exec")
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        if expected is not None:
            assert out.getvalue() == expected, f"output of the block at line {line} differs"


def test_code_blocks_finds_output_blocks() -> None:
    text = "```python\nprint(1)\n```\n\n```text\n1\n```\n```python\n# not run\nx\n```\n"
    assert code_blocks(text) == [(1, "print(1)\n", "1\n"), (8, "# not run\nx\n", None)]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_github_anchor() -> None:
    assert github_anchor("Which call raises what") == "which-call-raises-what"
    assert github_anchor("`send_data` queues") == "send_data-queues"


@pytest.mark.parametrize("name", ["index.md", "quickstart.md", "api.md", "states.md"])
def test_docs_links_resolve(name: str) -> None:
    page = QUICKSTART.parent / name
    text = page.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", text):
        linked = page.parent / target if target else page
        assert linked.is_file(), f"{name} links to missing {target}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
            assert anchor in {github_anchor(h) for h in headings}, f"{name}: no #{anchor} in {linked.name}"
