"""Remembered allow rules, per project (table ``permission_rules``): what
``remember: true`` on an answer keeps.

A rule is a :data:`~switchboard.store.records.RuleKey`: the agent's own suggestion for
"always allow this" (tool name and rule content, e.g. ``Bash`` / ``touch created.txt``),
or the tool with its exact input. The agent describes each request by the keys of the
rules that would allow it; a request matches when every one of them is stored.
"""

import asyncio
import time
import uuid
from collections.abc import Sequence

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection

from switchboard.store.records import PermissionRule, RuleKey
from switchboard.store.sqlite.schema import permission_rules
from switchboard.store.sqlite.writer import Writer


class SqliteRuleStore:
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

    def match(self, project_id: str, keys: Sequence[RuleKey]) -> PermissionRule | None:
        """The rule for ``keys[0]``, if stored rules cover *every* key (a compound
        command has one per subcommand: allowing one of them must not allow the rest)."""
        stored = {rule.key: rule for rule in self.of_project(project_id)}
        if keys and all(key in stored for key in keys):
            return stored[keys[0]]
        return None

    async def remember(self, project_id: str, keys: Sequence[RuleKey]) -> list[PermissionRule]:
        """Store the rules for ``keys`` from now on (those not stored yet)."""
        known = {rule.key for rule in self.of_project(project_id)}
        now = time.time()
        new = [
            PermissionRule(uuid.uuid4().hex[:12], project_id, tool, content, input_json, now)
            for tool, content, input_json in keys
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
