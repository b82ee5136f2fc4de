"""What a Claude ``can_use_tool`` request becomes behind the agent seam, and how answers
go back to the CLI."""

from typing import Any

from switchboard.agents.base import AskAnswer, Question
from switchboard.agents.claude.asks import answered_input, ask_from, kind_of
from switchboard.agents.claude.control import PermissionRequest


def request(tool: str, tool_input: dict[str, Any], suggestions: list[Any]) -> PermissionRequest:
    return PermissionRequest("r1", tool, tool_input, "toolu_1", suggestions, {})


def test_the_kind_follows_the_tool() -> None:
    assert kind_of("AskUserQuestion") == "question"
    assert kind_of("ExitPlanMode") == "plan"
    assert kind_of("Bash") == "tool_permission"


def test_rule_keys_are_the_clis_allow_suggestions_or_else_the_exact_input() -> None:
    suggested = request(
        "Bash",
        {"command": "touch a"},
        [
            {
                "type": "addRules",
                "behavior": "allow",
                "rules": [{"toolName": "Bash", "ruleContent": "touch a"}],
            },
            {
                "type": "addRules",
                "behavior": "deny",
                "rules": [{"toolName": "Bash", "ruleContent": "rm"}],
            },
            {"type": "setMode", "mode": "acceptEdits"},
        ],
    )
    assert ask_from(suggested).rule_keys == (("Bash", "touch a", None),)
    bare = request("Write", {"file_path": "/x", "content": "y"}, [])
    assert ask_from(bare).rule_keys == (("Write", None, '{"content":"y","file_path":"/x"}'),)


def test_questions_and_their_option_labels_are_read_from_the_input() -> None:
    tool_input = {
        "questions": [
            {"question": "Which color?", "options": [{"label": "Red"}, {"label": 3}, {}]},
            {"question": 7},
            "not a question",
            {"question": "Why?"},
        ]
    }
    ask = ask_from(request("AskUserQuestion", tool_input, []))
    assert ask.kind == "question"
    assert ask.questions == (Question("Which color?", ("Red",)), Question("Why?", ()))
    assert ask.summary == "Which color? (Red)\nWhy?"


def test_the_summary_says_what_a_tool_would_do() -> None:
    summaries = [
        ask_from(request(tool, tool_input, [])).summary
        for tool, tool_input in (
            ("Bash", {"command": "make test", "description": "Run the tests"}),
            ("Edit", {"file_path": "src/a.py", "old_string": "x", "new_string": "y"}),
            ("WebFetch", {"url": "https://example.org", "prompt": "read it"}),
            ("Odd", {"n": 1}),
            ("Bash", {"command": "x" * 5000}),
        )
    ]
    assert summaries[:4] == ["make test", "src/a.py", "https://example.org", None]
    assert summaries[4] == "x" * 600


def test_answers_go_back_in_the_input_and_an_allow_keeps_or_replaces_it() -> None:
    question = ask_from(request("AskUserQuestion", {"questions": [], "x": 1}, []))
    chosen = AskAnswer(True, answers={"Which color?": "Red"})
    assert answered_input(question, chosen) == {
        "questions": [],
        "x": 1,
        "answers": {"Which color?": "Red"},
    }
    tool = ask_from(request("Bash", {"command": "ls"}, []))
    assert answered_input(tool, AskAnswer(True)) == {"command": "ls"}
    assert answered_input(tool, AskAnswer(True, {"command": "ls -a"})) == {"command": "ls -a"}
