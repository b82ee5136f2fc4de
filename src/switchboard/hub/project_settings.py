"""What a client may set on a project besides its runs: the permission mode and the
rules remembered from answers, which agent session it continues, and its retention.

Each change is logged in the project's log and followed by a ``project_status``.
"""

import json
from collections.abc import Callable

from switchboard.agents.base import AgentDriver
from switchboard.hub.registry import HubError, ProjectRegistry
from switchboard.hub.retention import Retention
from switchboard.hub.stored_sessions import StoredSessions
from switchboard.protocol.messages import (
    PermissionMode,
    PermissionModeChanged,
    PermissionRuleInfo,
    ProjectInfo,
    ProjectStatus,
    StoredSessionInfo,
)
from switchboard.store.ports import RetentionStore, RuleStore
from switchboard.store.records import NewEvent, PermissionRule, ProjectRecord, RetentionPolicy


class ProjectSettings:
    def __init__(
        self,
        registry: ProjectRegistry,
        agents: AgentDriver,
        rules: RuleStore,
        policies: RetentionStore,
        retention: Retention,
        *,
        driver_for: Callable[[ProjectRecord], AgentDriver],
        allow_bypass: bool,
    ) -> None:
        self._registry = registry
        self._agents = agents
        self._rules = rules
        self._policies = policies
        self._retention = retention
        self._stored_sessions = StoredSessions(driver_for)
        self._allow_bypass = allow_bypass

    def forget_project(self, project_id: str) -> None:
        self._rules.forget_project(project_id)
        self._policies.forget_project(project_id)
        self._retention.forget(project_id)

    # -- permission modes and rules -------------------------------------------------------

    def permission_modes(self) -> list[str]:
        """The modes the agent knows and this server allows, as clients offer them."""
        return [
            mode
            for mode in self._agents.permission_modes
            if self._allow_bypass or mode != "bypassPermissions"
        ]

    def check_mode(self, mode: str | None) -> None:
        if mode == "bypassPermissions" and not self._allow_bypass:
            raise HubError(
                "permission_mode_not_allowed",
                "bypassPermissions is off on this server (--allow-bypass-permissions)",
            )
        if mode is not None and mode not in self._agents.permission_modes:
            known = ", ".join(self._agents.permission_modes)
            raise HubError(
                "permission_mode_not_allowed",
                f"{self._agents.name} has no permission mode {mode!r} (it knows: {known})",
            )

    async def set_permission_mode(
        self, key: str, mode: PermissionMode | None, by: str | None = None
    ) -> ProjectInfo:
        """The project's default mode from now on; a running run that follows the
        project's mode switches at once."""
        self.check_mode(mode)
        async with self._registry.changing(key) as (record, state):
            await self._registry.records.set_permission_mode(record.id, mode)
            running = state.running
            follows_project = running is not None and (
                running.options.permission_mode is None or running.mode_from_project
            )
            switched = None
            if running is not None and follows_project and mode is not None:
                switched = running.id if await state.session.switch_mode(mode) else None
            body = PermissionModeChanged(mode=mode, run=switched, by=by).model_dump_json()
            await self._registry.append(record.id, NewEvent("permission_mode", body, switched))
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    async def set_back_channel(self, key: str, enabled: bool) -> ProjectInfo:
        """Turn the project's back-channel on or off: the CLI up now is stopped once
        idle, and the next run's CLI starts with the new setting."""
        async with self._registry.changing(key) as (record, state):
            if record.back_channel != enabled:
                await self._registry.records.set_back_channel(record.id, enabled)
                state.session.retire()
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    def rules_of(self, key: str) -> list[PermissionRuleInfo]:
        return [rule_info(rule) for rule in self._rules.of_project(self._registry.project(key).id)]

    async def remove_rule(self, key: str, rule_id: str) -> PermissionRuleInfo:
        async with self._registry.changing(key) as (record, _state):
            rule = await self._rules.remove(record.id, rule_id)
        if rule is None:
            raise HubError("unknown_rule", f"{record.name} has no rule {rule_id!r}")
        return rule_info(rule)

    # -- the agent session ----------------------------------------------------------------

    async def new_session(self, key: str, by: str | None = None) -> ProjectInfo:
        """The project's next run starts a fresh session."""
        async with self._registry.changing(key) as (record, state):
            state.session.retire()
            await self._registry.records.set_session(record.id, None)
            change = {"session_id": None, "reason": "session.new", "by": by}
            body = json.dumps(change, separators=(",", ":"))
            await self._registry.append(record.id, NewEvent("session", body))
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    async def list_sessions(self, key: str) -> list[StoredSessionInfo]:
        """The sessions the agent has stored for the project's directory."""
        return await self._stored_sessions.list(self._registry.project(key))

    async def use_session(self, key: str, session_id: str) -> ProjectInfo:
        """Make a stored session the project's (its next run resumes it) and import its
        history. Refused while a run is under way: the history would interleave."""
        record = self._registry.project(key)
        history = await self._stored_sessions.read(record, session_id)
        if history is None:
            raise HubError(
                "unknown_session",
                f"{self._agents.name} has no session {session_id!r} for {record.path}",
            )
        async with self._registry.changing(key) as (record, state):
            if state.under_way is not None:
                raise HubError(
                    "busy", f"{record.name} has a run under way; wait for it or cancel it"
                )
            if record.session_id != session_id:
                state.session.retire()
                updated = await self._registry.records.set_session(record.id, session_id)
                await self._stored_sessions.append_history(
                    self._registry.bus, updated, session_id, history
                )
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        return info

    # -- retention ------------------------------------------------------------------------

    async def set_retention(
        self, key: str, max_age_seconds: float | None, max_bytes: int | None
    ) -> ProjectInfo:
        """The project's own retention policy (a None field follows the server's, 0 is
        no limit); a trimming pass follows at once."""
        async with self._registry.changing(key) as (record, _state):
            await self._policies.set(record.id, RetentionPolicy(max_age_seconds, max_bytes))
            info = self._registry.info(record.id)
        self._registry.notify(ProjectStatus(project=info))
        self._retention.poke()
        return info


def rule_info(rule: PermissionRule) -> PermissionRuleInfo:
    return PermissionRuleInfo(
        id=rule.id,
        project=rule.project_id,
        tool_name=rule.tool_name,
        rule_content=rule.rule_content,
        input=json.loads(rule.input) if rule.input is not None else None,
        created_at=rule.created_at,
    )
