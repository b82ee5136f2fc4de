"""Docs that must follow the code."""

import os
import re
from pathlib import Path
from typing import get_args

from switchboard.config import SERVE_OPTIONS
from switchboard.protocol.close_codes import CloseCode
from switchboard.protocol.messages import CLIENT_TYPES, ErrorCode, ServerMessage
from switchboard.protocol.schema import render

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_doc_lists_every_setting() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    for option in SERVE_OPTIONS:
        assert f"`{option.flag}`" in text, option.flag
        assert f"`{option.env_var}`" in text, option.env_var


def test_ws_claude_doc_lists_its_close_codes() -> None:
    text = (ROOT / "docs" / "ws-claude.md").read_text()
    for code in CloseCode:
        if code not in (CloseCode.SLOW_CONSUMER, CloseCode.TOKEN_REVOKED):  # /ws only
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
