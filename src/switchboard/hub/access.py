"""Access: the tokens the server issues, checks and revokes (``produce``, ``agent``, and
people's ``viewer``, ``operator`` and ``admin``), and who hears of a revocation (the
connections that hold the token close at once)."""

from collections.abc import Callable

from switchboard.hub.registry import HubError, ProjectRegistry
from switchboard.protocol.people import TokenInfo
from switchboard.store.ports import TokenStore
from switchboard.store.records import ScopedToken

RESERVED_PRODUCERS = frozenset({"embedded", "server token"})
"""Producer names the server gives; a scoped token may not take one."""

PERSON_SCOPES = frozenset({"viewer", "operator", "admin"})
"""Scopes that are a person's role: they open what the server token opens, by role."""

RevocationListener = Callable[[str], None]
"""Called with the id of a token that was just revoked."""


class Access:
    def __init__(self, tokens: TokenStore, registry: ProjectRegistry) -> None:
        self._tokens = tokens
        self._registry = registry
        self._listeners: set[RevocationListener] = set()

    def alive(self, token_id: str) -> bool:
        return self._tokens.exists(token_id)

    def find(self, secret: str) -> ScopedToken | None:
        """The token whose secret this is (compared by hash), if it exists."""
        return self._tokens.find(secret)

    async def create(
        self, name: str, scope: str, project_keys: list[str] | None
    ) -> tuple[TokenInfo, str]:
        """A scoped token and its secret (shown once). Its name is what its events
        record as their producer: unique, and not one the server uses itself."""
        if name in RESERVED_PRODUCERS:
            raise HubError("name_invalid", f"{name!r} is reserved; choose another name")
        if any(token.name == name for token in self._tokens.all()):
            raise HubError("name_taken", f"a token named {name!r} exists")
        if scope == "agent" and project_keys is not None:
            raise HubError(
                "bad_message", "an agent token names an agent machine, not projects: drop them"
            )
        if scope in PERSON_SCOPES and project_keys is not None:
            raise HubError(
                "bad_message",
                f"a {scope} token covers every project; projects are for produce tokens",
            )
        projects = (
            tuple(dict.fromkeys(self._registry.project(key).id for key in project_keys))
            if project_keys is not None
            else None
        )
        token, secret = await self._tokens.create(name, scope, projects)
        return token_info(token), secret

    def infos(self) -> list[TokenInfo]:
        return [token_info(token) for token in self._tokens.all()]

    async def revoke(self, token_id: str) -> TokenInfo:
        token = await self._tokens.revoke(token_id)
        if token is None:
            raise HubError("unknown_token", f"no token {token_id!r}")
        for listener in tuple(self._listeners):
            listener(token.id)
        return token_info(token)

    async def reload(self) -> None:
        """Read the tokens again (another node of a cluster changed them); those
        revoked meanwhile are told to the listeners, as if revoked here."""
        before = {token.id for token in self._tokens.all()}
        await self._tokens.load()
        after = {token.id for token in self._tokens.all()}
        for token_id in before - after:
            for listener in tuple(self._listeners):
                listener(token_id)

    def add_listener(self, listener: RevocationListener) -> None:
        self._listeners.add(listener)

    def remove_listener(self, listener: RevocationListener) -> None:
        self._listeners.discard(listener)


def token_info(token: ScopedToken) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        scope=token.scope,  # type: ignore[arg-type]
        projects=list(token.projects) if token.projects is not None else None,
        created_at=token.created_at,
    )
