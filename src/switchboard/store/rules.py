"""Remembered allow rules, per project: what ``remember: true`` on an answer keeps.

A rule is the CLI's own suggestion for "always allow this" (an ``addRules`` permission
suggestion: tool name and rule content, e.g. ``Bash`` / ``touch created.txt``). A later
request matches when the CLI suggests the same rule for it. When the CLI suggested no
rule with content, the rule is the tool with its exact input.
"""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.protocol.control import PermissionRequest
from switchboard.store.schema import permission_rules
from switchboard.store.writer import Writer

RuleKey = tuple[str, str | None, str | None]
"""(tool name, rule content, input as canonical JSON): one of the last two is set."""


@dataclass(frozen=True, slots=True)
class PermissionRule:
    id: str
    project_id: str
    tool_name: str
    rule_content: str | None
    input: str | None
    created_at: float

    @property
    def key(self) -> RuleKey:
        return (self.tool_name, self.rule_content, self.input)


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


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class RuleStore:
    """Rules in memory, persisted through the writer. Call :meth:`load` once."""

    def __init__(self, engine: Engine, writer: Writer) -> None:
        self._engine = engine
        self._writer = writer
        self._rules: dict[str, PermissionRule] = {}

    async def load(self) -> None:
        def read() -> list[PermissionRule]:
            with self._engine.connect() as connection:
                rows = connection.execute(select(permission_rules)).mappings()
                return [PermissionRule(**row) for row in rows]

        self._rules = {rule.id: rule for rule in await asyncio.to_thread(read)}

    def of_project(self, project_id: str) -> list[PermissionRule]:
        rules = [rule for rule in self._rules.values() if rule.project_id == project_id]
        return sorted(rules, key=lambda rule: rule.created_at)

    def match(self, project_id: str, request: PermissionRequest) -> PermissionRule | None:
        """The rule that allows ``request``, if stored rules cover *every* rule the CLI
        suggests for it (a compound command suggests one per subcommand: allowing one
        of them must not allow the rest)."""
        wanted = rule_keys(request)
        stored = {rule.key: rule for rule in self.of_project(project_id)}
        if all(key in stored for key in wanted):
            return stored[wanted[0]]
        return None

    async def remember(self, project_id: str, request: PermissionRequest) -> list[PermissionRule]:
        """Store the rules that allow ``request`` from now on (those not stored yet)."""
        known = {rule.key for rule in self.of_project(project_id)}
        now = time.time()
        new = [
            PermissionRule(uuid.uuid4().hex[:12], project_id, tool, content, input_json, now)
            for tool, content, input_json in rule_keys(request)
            if (tool, content, input_json) not in known
        ]
        if not new:
            return []
        rows = [{f: getattr(rule, f) for f in PermissionRule.__slots__} for rule in new]

        def write(connection: Connection) -> None:
            connection.execute(insert(permission_rules), rows)

        await self._writer.submit(write)
        self._rules.update({rule.id: rule for rule in new})
        return new

    async def remove(self, project_id: str, rule_id: str) -> PermissionRule | None:
        rule = self._rules.get(rule_id)
        if rule is None or rule.project_id != project_id:
            return None

        def write(connection: Connection) -> None:
            connection.execute(delete(permission_rules).where(permission_rules.c.id == rule_id))

        await self._writer.submit(write)
        del self._rules[rule_id]
        return rule

    def forget_project(self, project_id: str) -> None:
        """The project is gone (its rows went with it, by cascade)."""
        for rule in self.of_project(project_id):
            del self._rules[rule.id]
