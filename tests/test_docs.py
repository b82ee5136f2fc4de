"""Docs that must follow the code."""

import os
import re
from pathlib import Path
from typing import Any, get_args

from switchboard.agents.claude.driver import MAX_IMPORTED_LINES
from switchboard.config import SERVE_OPTIONS, Settings
from switchboard.hub.session import STDIN_EOF_GRACE
from switchboard.protocol.close_codes import CloseCode
from switchboard.protocol.messages import CLIENT_TYPES, ErrorCode, ServerMessage
from switchboard.protocol.schema import render
from switchboard.server.producer_link import MAX_PENDING_PER_CONNECTION
from switchboard.server.subscription import REPLAY_CHUNK

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_doc_lists_every_setting() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for option in SERVE_OPTIONS:
        assert f"`{option.flag}`" in text, option.flag
        assert f"`{option.env_var}`" in text, option.env_var


def test_ws_claude_doc_lists_its_close_codes() -> None:
    text = (ROOT / "docs" / "ws-claude.md").read_text()
    ws_only = (
        CloseCode.SLOW_CONSUMER,
        CloseCode.TOKEN_REVOKED,
        CloseCode.RATE_LIMITED,
        CloseCode.AGENT_REPLACED,
        CloseCode.HEARTBEAT_TIMEOUT,
    )
    for code in CloseCode:
        if code not in ws_only:
            assert f"| {int(code)} |" in text, code


def test_protocol_doc_lists_every_close_code_and_error_code() -> None:
    text = (ROOT / "docs" / "protocol.md").read_text()
    for code in CloseCode:
        assert f"| {int(code)} |" in text, code
    for error in get_args(ErrorCode):
        assert f"`{error}`" in text, error


def test_protocol_doc_has_a_section_for_every_message() -> None:
    headings = [
        line
        for line in (ROOT / "docs" / "protocol.md").read_text().splitlines()
        if line.startswith("### ")
    ]
    server_types = [
        model.model_fields["type"].default for model in get_args(get_args(ServerMessage)[0])
    ]
    for kind in [*CLIENT_TYPES, *server_types]:
        assert any(f"`{kind}`" in heading for heading in headings), kind


def test_committed_json_schema_matches_the_models() -> None:
    committed = (ROOT / "docs" / "protocol.schema.json").read_text()
    assert committed == render(), (
        "docs/protocol.schema.json is stale: run "
        "python -m switchboard.protocol.schema docs/protocol.schema.json"
    )


def test_readme_commands_exist_and_are_executable() -> None:
    readme = (ROOT / "README.md").read_text()
    commands = set(re.findall(r"^\./(scripts/\w+)", readme, flags=re.MULTILINE))
    assert {"scripts/serve", "scripts/test", "scripts/bench"} <= commands
    for command in commands:
        assert os.access(ROOT / command, os.X_OK), command


def test_ci_runs_exactly_the_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "exec ./scripts/test\n" in ci


def test_docs_links_resolve() -> None:
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]


_UNITS = {"": 1, "s": 1, "MiB": 1024 * 1024, "KiB": 1024, "events": 1}


def _documented_number(cell: str) -> float | None:
    match = re.fullmatch(r"`?([0-9]+(?:\.[0-9]+)?)`?\s*(s|MiB|KiB|events)?", cell.strip())
    return float(match.group(1)) * _UNITS[match.group(2) or ""] if match else None


def _setting_default(flag: str) -> Any:
    option = next(o for o in SERVE_OPTIONS if o.flag == flag)
    field = {"allowed_origin": "allowed_origins", "allowed_host": "allowed_hosts"}.get(
        option.dest, option.dest
    )
    return Settings.__dataclass_fields__[field].default


def test_numeric_defaults_in_the_docs_are_the_codes() -> None:
    """Every number the configuration table, the protocol's limits table and the
    operations guide's "Limits and abuse" table give as a setting's default is that
    setting's default in the code."""
    checked = 0
    for doc, flag_column, default_column in (
        ("configuration.md", 0, 2),
        ("protocol.md", 2, 1),
        ("operations.md", 1, 2),
    ):
        for row in _table_rows((ROOT / "docs" / doc).read_text()):
            flags = re.findall(r"`(--[a-z-]+)`", row[flag_column]) if len(row) > 2 else []
            if len(flags) != 1 or not any(o.flag == flags[0] for o in SERVE_OPTIONS):
                continue
            documented = _documented_number(row[default_column])
            if documented is None:
                continue
            assert documented == _setting_default(flags[0]), (doc, row)
            checked += 1
    assert checked >= 40


def test_fixed_limits_in_the_docs_are_the_codes() -> None:
    protocol = (ROOT / "docs" / "protocol.md").read_text()
    configuration = (ROOT / "docs" / "configuration.md").read_text()
    assert f"| replay chunk | {REPLAY_CHUNK} events | fixed |" in protocol
    assert f"replay reads {REPLAY_CHUNK} events at a time" in configuration
    assert f"chunks of {REPLAY_CHUNK} events" in protocol
    assert f"| questions one connection waits for | {MAX_PENDING_PER_CONNECTION} |" in protocol
    assert f"gets {STDIN_EOF_GRACE:g} s to exit after its stdin" in configuration
    assert f"| lines imported by `session.use` | {MAX_IMPORTED_LINES} |" in protocol
