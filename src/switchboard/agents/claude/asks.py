"""What a ``can_use_tool`` request means to a person, and how an answer goes back.

* Its kind: ``AskUserQuestion`` asks questions, ``ExitPlanMode`` asks to approve a
  plan, every other tool asks for permission.
* The rules that would allow it (``remember: true``): the CLI's own ``addRules``
  suggestions (tool name and rule content, e.g. ``Bash`` / ``touch created.txt``), or,
  when it suggested none with content, the tool with its exact input.
* A question's answers go back as the tool's input with ``answers`` (question text →
  the chosen label, or labels joined with ", "), which is how the CLI takes a choice.
"""

import json
from typing import Any

from switchboard.agents.base import AskAnswer, AskKind, PermissionAsk, Question, RuleKey
from switchboard.agents.claude.control import PermissionRequest

QUESTION_TOOL = "AskUserQuestion"
PLAN_TOOL = "ExitPlanMode"


def kind_of(tool_name: str) -> AskKind:
    if tool_name == QUESTION_TOOL:
        return "question"
    if tool_name == PLAN_TOOL:
        return "plan"
    return "tool_permission"


def ask_from(request: PermissionRequest, plan: str | None = None) -> PermissionAsk:
    kind = kind_of(request.tool_name)
    return PermissionAsk(
        request_id=request.request_id,
        kind=kind,
        tool_name=request.tool_name,
        input=request.input,
        suggestions=request.suggestions,
        rule_keys=tuple(rule_keys(request)),
        questions=questions_of(request.input) if kind == "question" else (),
        plan=plan,
        summary=summary_of(kind, request.input),
    )


DETAIL_KEYS = ("command", "file_path", "notebook_path", "path", "url", "pattern", "description")
"""The input field that says best what a tool call does, first found first (Bash's
command, Edit's and Write's file_path, WebFetch's url, Grep's and Glob's pattern…)."""
MAX_SUMMARY = 600


def summary_of(kind: AskKind, tool_input: dict[str, Any]) -> str | None:
    """What is asked, in a few lines: a question's questions with their options, or
    the field of a tool's input that says what it would do."""
    if kind == "question":
        lines = [
            f"{q.text} ({' / '.join(q.options)})" if q.options else q.text
            for q in questions_of(tool_input)
        ]
        return "\n".join(lines)[:MAX_SUMMARY] or None
    if kind == "plan":
        return None  # the plan itself is sent apart
    for key in DETAIL_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and value.strip():
            return value[:MAX_SUMMARY]
    return None


def questions_of(tool_input: dict[str, Any]) -> tuple[Question, ...]:
    """AskUserQuestion's questions, each with its options' labels."""
    found = tool_input.get("questions")
    questions: list[Question] = []
    for asked in found if isinstance(found, list) else []:
        if not isinstance(asked, dict) or not isinstance(asked.get("question"), str):
            continue
        labels = [option.get("label") for option in asked.get("options") or []]
        questions.append(
            Question(asked["question"], tuple(label for label in labels if isinstance(label, str)))
        )
    return tuple(questions)


def rule_keys(request: PermissionRequest) -> list[RuleKey]:
    """The rules that would allow ``request``: the CLI's suggestions, else its input."""
    keys: list[RuleKey] = []
    for suggestion in request.suggestions:
        if not isinstance(suggestion, dict) or suggestion.get("type") != "addRules":
            continue
        if suggestion.get("behavior") != "allow":
            continue
        for rule in suggestion.get("rules") or []:
            tool, content = rule.get("toolName"), rule.get("ruleContent")
            if isinstance(tool, str) and isinstance(content, str) and content:
                keys.append((tool, content, None))
    if not keys:
        keys.append((request.tool_name, None, _canonical(request.input)))
    return keys


def answered_input(ask: PermissionAsk, answer: AskAnswer) -> dict[str, Any]:
    """The tool input an ``allow`` sends back."""
    if answer.answers is not None:
        return {**ask.input, "answers": answer.answers}
    return answer.updated_input or ask.input


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
