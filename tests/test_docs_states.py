"""docs/states.md is exactly what docs/gen_states.py produces from the table.

DESIGN.md: documentation diagrams are generated from the state tables, so they
never drift.  Regenerate with ``python docs/gen_states.py``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from h2lite.stream import RECEIVE_ERRORS, TRANSITIONS, StreamState

DOCS = Path(__file__).resolve().parent.parent / "docs"


def load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_states", DOCS / "gen_states.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_states_md_is_up_to_date() -> None:
    expected = load_generator().render()
    actual = (DOCS / "states.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/states.md is stale: run python docs/gen_states.py"


def test_every_transition_and_receive_error_is_listed() -> None:
    # RFC 9113 §5.1: the page documents every allowed (state, input) pair and
    # the error for every state.
    text = load_generator().render()
    for (state, event), new in TRANSITIONS.items():
        row = f"| `{state.name.lower()}` | `{event.name.lower()}` | `{new.name.lower()}` |"
        assert row in text
    for state in StreamState:
        code, _ = RECEIVE_ERRORS[state]
        assert f"| `{state.name.lower()}` | `{code.name}` |" in text


def test_diagram_shows_every_state_change() -> None:
    text = load_generator().render()
    for (state, event), new in TRANSITIONS.items():
        if state is not new:
            assert f"{state.name.lower()} --> {new.name.lower()}: {event.name.lower()}" in text
