"""A project's directory swapped for a symlink after registration, with the real CLI:
the run fails saying why, and no CLI ever runs in the directory the symlink names."""

from pathlib import Path

import pytest

from switchboard.scripted_model import Script, ScriptedModelServer
from tests.conftest import ClaudeBinary, ServerFactory
from tests.support import processes
from tests.support.hub import add_and_watch, connect, prompt_and_follow

pytestmark = pytest.mark.timeout(180)


def swap_for_symlink(directory: Path, target: Path) -> None:
    """Move ``directory`` aside and put a symlink to ``target`` in its place."""
    directory.rename(directory.with_name(directory.name + "-moved"))
    directory.symlink_to(target, target_is_directory=True)


async def test_a_project_dir_swapped_for_a_symlink_fails_the_run_and_stops_its_cli(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    tmp_path: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    project = tmp_path / "work" / "app"
    project.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scripted_model.set_script(Script.of({"text": "First answer."}, {"text": "Never asked."}))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client, await connect(server) as neighbour:
        added = await add_and_watch(client, project)
        first = await prompt_and_follow(client, added["id"], "Hello")
        assert first.final["state"] == "completed"
        [spawn] = servers.spawned_argv()
        assert spawn["cwd"] == str(project)  # the CLI stays up, idle, in the directory

        swap_for_symlink(project, elsewhere)
        second = await prompt_and_follow(client, added["id"], "Hello again")
        assert second.final["state"] == "failed"
        assert second.final["error"] == (
            "claude could not start: the project's directory cannot be used: "
            f"{project} is a symlink (to {elsewhere}); a project's path is not followed "
            "through symlinks"
        )
        assert await neighbour.heartbeat() > 0
    assert len(scripted_model.conversation_requests) == 1  # the second prompt never went out
    assert [s["pid"] for s in servers.spawned_argv()] == [spawn["pid"]]  # no other CLI
    assert processes.wait_exited([spawn["pid"]], 20) == []  # and the idle one was stopped


async def test_a_parent_swapped_for_a_symlink_fails_the_run_before_any_cli_starts(
    servers: ServerFactory,
    bundled_claude_bin: ClaudeBinary,
    tmp_path: Path,
    scripted_model: ScriptedModelServer,
) -> None:
    project = tmp_path / "work" / "app"
    project.mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "app").mkdir(parents=True)  # the same layout, somewhere else
    scripted_model.set_script(Script.of({"text": "Never asked."}))
    server = servers.start(bundled_claude_bin.path)
    async with await connect(server) as client:
        added = await add_and_watch(client, project)
        swap_for_symlink(tmp_path / "work", elsewhere)
        run = await prompt_and_follow(client, added["id"], "Hello")
        # Once the directory is back, runs work again: the check is made at each start.
        (tmp_path / "work").unlink()
        (tmp_path / "work-moved").rename(tmp_path / "work")
        again = await prompt_and_follow(client, added["id"], "Hello")
    assert run.final["state"] == "failed"
    assert f"{tmp_path / 'work'} is a symlink (to {elsewhere})" in run.final["error"]
    assert again.final["state"] == "completed"
    assert [s["cwd"] for s in servers.spawned_argv()] == [str(project)]
