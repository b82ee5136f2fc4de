import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from switchboard.project_paths import ProjectPathError
from switchboard.store.projects import ProjectError, default_name
from switchboard.store.records import NewEvent
from switchboard.store.sqlite.events import SqliteEventLog
from switchboard.store.sqlite.projects import SqliteProjectStore
from switchboard.store.sqlite.schema import events
from switchboard.store.sqlite.writer import Writer


@pytest.fixture
async def store(engine: Engine, writer: Writer) -> SqliteProjectStore:
    store = SqliteProjectStore(engine, writer)
    await store.load()
    return store


@pytest.fixture
def dirs(tmp_path: Path) -> Path:
    for name in ("app", "lib", "app/sub", "My Project!"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
    return tmp_path


async def test_add_find_and_persist(
    store: SqliteProjectStore, dirs: Path, engine: Engine, writer: Writer
) -> None:
    app = await store.add(str(dirs / "app"))
    assert (app.name, app.path, app.session_id, app.epoch) == ("app", dirs / "app", None, 1)
    assert store.find(app.id) == store.find("app") == store.find(str(dirs / "app")) == app
    assert store.find("nope") is None
    reloaded = SqliteProjectStore(engine, writer)
    await reloaded.load()
    assert reloaded.all() == [app]


async def test_names_default_to_the_directory_and_must_be_unique(
    store: SqliteProjectStore, dirs: Path
) -> None:
    odd = await store.add(str(dirs / "My Project!"))
    assert odd.name == "My-Project"
    with pytest.raises(ProjectError) as taken:
        await store.add(str(dirs / "lib"), name="My-Project")
    assert taken.value.code == "name_taken"
    with pytest.raises(ProjectError) as invalid:
        await store.add(str(dirs / "lib"), name="no spaces")
    assert invalid.value.code == "name_invalid"
    assert [p.name for p in store.all()] == ["My-Project"]


async def test_a_taken_default_name_gets_a_number(
    store: SqliteProjectStore, tmp_path: Path
) -> None:
    for parent in ("one", "two", "three"):
        (tmp_path / parent / "app").mkdir(parents=True)
    names = [(await store.add(str(tmp_path / p / "app"))).name for p in ("one", "two", "three")]
    assert names == ["app", "app-2", "app-3"]


async def test_path_rules_apply(store: SqliteProjectStore, dirs: Path) -> None:
    await store.add(str(dirs / "app"))
    with pytest.raises(ProjectPathError) as nested:
        await store.add(str(dirs / "app" / "sub"))
    assert nested.value.code == "nested"
    with pytest.raises(ProjectPathError) as outside:
        await store.add(str(dirs / "lib"), allowed_roots=[dirs / "app"])
    assert outside.value.code == "outside_roots"


async def test_concurrent_adds_cannot_both_pass_the_nesting_check(
    store: SqliteProjectStore, dirs: Path
) -> None:
    outcomes = await asyncio.gather(
        store.add(str(dirs / "app")),
        store.add(str(dirs / "app" / "sub")),
        return_exceptions=True,
    )
    assert sum(isinstance(o, ProjectPathError) for o in outcomes) == 1


async def test_remove_forgets_the_project_and_its_history(
    store: SqliteProjectStore, dirs: Path, engine: Engine, writer: Writer
) -> None:
    app = await store.add(str(dirs / "app"))
    log = SqliteEventLog(engine, writer)
    await log.append(app.id, 1, [NewEvent("cli", "{}")])
    assert await store.remove("app") == app
    assert store.all() == []
    with engine.connect() as connection:
        assert connection.execute(select(events)).all() == []
    with pytest.raises(ProjectError) as unknown:
        await store.remove("app")
    assert unknown.value.code == "unknown_project"


async def test_session_id_is_remembered(
    store: SqliteProjectStore, dirs: Path, engine: Engine, writer: Writer
) -> None:
    app = await store.add(str(dirs / "app"))
    await store.set_session(app.id, "42fff4de-eb7e-47cf-b556-27ccdc65c616")
    reloaded = SqliteProjectStore(engine, writer)
    await reloaded.load()
    assert reloaded.get("app").session_id == "42fff4de-eb7e-47cf-b556-27ccdc65c616"


def test_default_names() -> None:
    assert default_name(Path("/x/.hidden")) == "hidden"
    assert default_name(Path("/x/--")) == "project"
    assert default_name(Path("/x/" + "a" * 100)) == "a" * 64


async def test_a_path_key_is_looked_up_without_raising_anything_but_bad_path(
    store: SqliteProjectStore, dirs: Path
) -> None:
    app = await store.add(str(dirs / "app"))
    with pytest.raises(ProjectPathError) as bad:
        store.find(f"{dirs}/app\nINFO forged")
    assert bad.value.code == "bad_path"
    # A registered directory that became a loop of symlinks is still found as written.
    (dirs / "app").rename(dirs / "app-moved")
    (dirs / "app").symlink_to(dirs / "app")
    assert store.find(str(dirs / "app")) == app
    assert store.find("~no-such-user-switchboard/x") is None
    assert store.find("/" + "a" * 300) is None
