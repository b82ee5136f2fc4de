"""Reading the CLI's stored sessions: where they are, which lines are the conversation."""

import json
import os
import re
from pathlib import Path
from typing import Any

from switchboard.agents.claude import transcripts


def write_session(directory: Path, session_id: str, entries: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{session_id}.jsonl"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def mangled(path: Path) -> str:
    """How the CLI names a directory's session store."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(path))


def prompt(text: Any, cwd: Path, **extra: Any) -> dict[str, Any]:
    return {
        "type": "user",
        "message": {"role": "user", "content": text},
        "cwd": str(cwd),
        "timestamp": "2026-12-05T08:00:00.000Z",
        **extra,
    }


def answer(text: str) -> dict[str, Any]:
    return {"type": "assistant", "message": {"content": [{"type": "text", "text": text}]}}


def test_sessions_are_found_under_the_mangled_directory_newest_first(tmp_path: Path) -> None:
    cwd = tmp_path / "my.project_1"
    env = {"HOME": str(tmp_path / "home")}
    store = tmp_path / "home" / ".claude" / "projects" / mangled(cwd)
    older = write_session(store, "aaa", [prompt("first", cwd), answer("one")])
    write_session(store, "bbb", [{"type": "queue-operation"}, prompt("second", cwd)])
    write_session(store, "ccc", [{"type": "summary"}])  # no conversation: not listed
    os.utime(older, (1, 1))
    found = transcripts.list_sessions(cwd, env)
    assert [(s.id, s.first_prompt) for s in found] == [("bbb", "second"), ("aaa", "first")]
    assert found[1].started_at is not None and found[1].updated_at == 1


def test_claude_config_dir_wins_over_home(tmp_path: Path) -> None:
    cwd = tmp_path / "p"
    env = {"HOME": str(tmp_path / "home"), "CLAUDE_CONFIG_DIR": str(tmp_path / "cfg")}
    store = tmp_path / "cfg" / "projects" / mangled(cwd)
    write_session(store, "s1", [prompt("hi", cwd)])
    assert [s.id for s in transcripts.list_sessions(cwd, env)] == ["s1"]


def test_a_long_directory_name_is_found_by_its_prefix_and_cwd(tmp_path: Path) -> None:
    cwd = tmp_path / ("x" * 250)
    other = tmp_path / ("x" * 250 + "y")
    env = {"HOME": str(tmp_path)}
    prefix = mangled(cwd)[:200]
    write_session(tmp_path / ".claude" / "projects" / f"{prefix}-abc", "mine", [prompt("a", cwd)])
    write_session(
        tmp_path / ".claude" / "projects" / f"{prefix}-def", "theirs", [prompt("b", other)]
    )
    assert [s.id for s in transcripts.list_sessions(cwd, env)] == ["mine"]


def test_prompts_are_what_a_person_typed(tmp_path: Path) -> None:
    cwd = tmp_path / "p"
    env = {"HOME": str(tmp_path)}
    store = tmp_path / ".claude" / "projects" / mangled(cwd)
    write_session(
        store,
        "s1",
        [
            prompt("<command-name>/clear</command-name>", cwd),
            prompt("meta", cwd, isMeta=True),
            prompt([{"type": "tool_result", "content": "x"}], cwd),
            prompt([{"type": "text", "text": "  A   real\nprompt " + "z" * 300}], cwd),
        ],
    )
    [session] = transcripts.list_sessions(cwd, env)
    assert session.first_prompt is not None
    assert session.first_prompt.startswith("A real prompt zzz") and len(session.first_prompt) == 200


def test_hostile_session_ids_are_never_opened(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    (tmp_path / "secret.jsonl").write_text("{}")
    assert transcripts.find_session(tmp_path / "p", env, "../../secret") is None
    assert transcripts.find_session(tmp_path / "p", env, "") is None


def test_a_transcript_keeps_the_newest_conversation_lines(tmp_path: Path) -> None:
    cwd = tmp_path / "p"
    entries = [
        {"type": "queue-operation"},
        prompt("one", cwd),
        answer("side") | {"isSidechain": True},
        answer("A" * 300),
        prompt("two", cwd),
        answer("three"),
    ]
    path = write_session(tmp_path, "s1", entries)
    history = transcripts.read_transcript(path, limit=2, max_line_bytes=250)
    assert [json.loads(line)["type"] for line in history.lines] == ["user", "assistant"]
    assert "three" in history.lines[-1]
    assert (history.omitted, history.too_long) == (1, 1)  # "one" made way; one too long
