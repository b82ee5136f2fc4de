import argparse
from pathlib import Path

import pytest

from switchboard.config import (
    SERVE_OPTIONS,
    Settings,
    add_options,
    default_data_dir,
    resolve,
    show_default,
)
from switchboard.exceptions import ConfigError


def parse(*argv: str, env: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_options(parser, SERVE_OPTIONS)
    return resolve(parser.parse_args(argv), env or {})


def test_defaults() -> None:
    settings = parse(env={"HOME": "/home/u"})
    assert (settings.host, settings.port, settings.run_timeout) == ("127.0.0.1", 9876, 300.0)
    assert settings.token is None and settings.claude_bin is None
    assert settings.workdir == Path.cwd()


def test_every_option_has_an_environment_variable() -> None:
    names = {option.env_var for option in SERVE_OPTIONS}
    for expected in (
        "SWITCHBOARD_HOST",
        "SWITCHBOARD_PORT",
        "SWITCHBOARD_DATA_DIR",
        "SWITCHBOARD_TOKEN",
        "SWITCHBOARD_CLAUDE_BIN",
        "SWITCHBOARD_RUN_TIMEOUT",
    ):
        assert expected in names


def test_environment_is_read() -> None:
    settings = parse(
        env={
            "SWITCHBOARD_PORT": "1234",
            "SWITCHBOARD_TOKEN": "t",
            "SWITCHBOARD_RUN_TIMEOUT": "2.5",
            "SWITCHBOARD_DATA_DIR": "/d",
            "SWITCHBOARD_ALLOWED_ORIGIN": "http://a, http://b",
        }
    )
    assert (settings.port, settings.token, settings.run_timeout) == (1234, "t", 2.5)
    assert settings.data_dir == Path("/d")
    assert settings.allowed_origins == ("http://a", "http://b")


def test_flags_beat_the_environment() -> None:
    settings = parse(
        "--port",
        "5",
        "--allowed-origin",
        "http://x",
        "--allowed-origin",
        "http://y",
        env={"SWITCHBOARD_PORT": "1234", "SWITCHBOARD_ALLOWED_ORIGIN": "http://z"},
    )
    assert settings.port == 5
    assert settings.allowed_origins == ("http://x", "http://y")


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (("--port", "70000"), {}, "--port: invalid value '70000'"),
        (("--run-timeout", "0"), {}, "--run-timeout: invalid value '0'"),
        ((), {"SWITCHBOARD_RUN_TIMEOUT": "soon"}, "SWITCHBOARD_RUN_TIMEOUT: invalid value 'soon'"),
        (("--log-level", "loud"), {}, "--log-level: invalid value 'loud'"),
    ],
)
def test_bad_values_are_clear_errors(
    argv: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(*argv, env=env)


def test_data_dir_follows_xdg() -> None:
    assert default_data_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/switchboard")


def test_the_demo_keeps_its_own_data_dir_and_runs_in_its_project() -> None:
    settings = parse("--demo", env={"XDG_DATA_HOME": "/x"})
    assert settings.demo is True
    assert settings.data_dir == Path("/x/switchboard-demo")
    assert settings.workdir == Path("/x/switchboard-demo/demo-project")


def test_the_demo_takes_a_given_data_dir_and_workdir_and_its_variable() -> None:
    settings = parse("--data-dir", "/d", env={"SWITCHBOARD_DEMO": "yes"})
    assert settings.demo is True
    assert (settings.data_dir, settings.workdir) == (Path("/d"), Path("/d/demo-project"))
    assert parse("--demo", "--workdir", "/w").workdir == Path("/w")


def test_without_the_demo_the_data_dir_is_the_usual_one() -> None:
    settings = parse(env={"XDG_DATA_HOME": "/x", "SWITCHBOARD_DEMO": "false"})
    assert settings.demo is False and settings.data_dir == Path("/x/switchboard")
    assert settings.claude_env is None


def test_retention_and_disk_settings_take_units() -> None:
    assert (parse().retention_max_age, parse().retention_max_bytes) == (None, None)
    settings = parse(
        "--retention-max-age",
        "7d",
        "--min-free-disk",
        "1M",
        env={"SWITCHBOARD_RETENTION_MAX_BYTES": "500M", "SWITCHBOARD_RETENTION_INTERVAL": "60"},
    )
    assert settings.retention_max_age == 7 * 86400
    assert settings.retention_max_bytes == 500 * 1024 * 1024
    assert (settings.retention_interval, settings.min_free_disk) == (60.0, 1024 * 1024)
    assert parse("--retention-max-age", "90").retention_max_age == 90.0
    assert parse("--retention-max-age", "12h").retention_max_age == 12 * 3600
    assert parse("--retention-max-bytes", "2G").retention_max_bytes == 2 * 1024**3
    for flag, value in (
        ("--retention-max-age", "0"),
        ("--retention-max-age", "soon"),
        ("--retention-max-bytes", "5X"),
        ("--min-free-disk", "-1"),
    ):
        with pytest.raises(ConfigError, match=f"{flag}: invalid value"):
            parse(flag, value)


def test_budgets_are_amounts_in_usd() -> None:
    assert (parse().budget_daily_usd, parse().budget_run_usd) == (None, None)
    settings = parse("--budget-daily-usd", "$20", env={"SWITCHBOARD_BUDGET_RUN_USD": "0.5"})
    assert (settings.budget_daily_usd, settings.budget_run_usd) == (20.0, 0.5)
    assert parse("--budget-run-usd", "0").budget_run_usd == 0.0
    for flag, value in (
        ("--budget-daily-usd", "-1"),
        ("--budget-daily-usd", "lots"),
        ("--budget-run-usd", "inf"),
        ("--budget-run-usd", "nan"),
    ):
        with pytest.raises(ConfigError, match=f"{flag}: invalid value"):
            parse(flag, value)


def test_help_texts_take_their_defaults_from_settings() -> None:
    """A default is written once, in Settings: the help says what it is from there
    (only defaults the code works out, like paths, are described in words)."""
    worked_out = {"data-dir", "token", "claude-bin", "workdir", "allowed-root"}
    for option in SERVE_OPTIONS:
        if option.name in worked_out:
            assert "Default" in option.help, option.name
            continue
        assert "Default" not in option.help, option.name
        assert option.described().endswith(f" Default {show_default(option.field)}."), option.name
    assert show_default("run_timeout") == "300"
    assert show_default("kill_grace") == "0.5"
    assert show_default("ws_compression") == "false"
    assert show_default("on_confirmation") == "none"


def test_the_database_url_names_sqlite_or_postgresql_and_errors_never_quote_it() -> None:
    assert parse().database_url is None  # SQLite in the data dir
    given = parse("--database-url", "postgresql://sb:hunter2@db.example/switchboard")
    assert given.database_url == "postgresql+psycopg://sb:hunter2@db.example/switchboard"
    from_env = parse(env={"SWITCHBOARD_DATABASE_URL": "sqlite:////var/lib/sb/store.db"})
    assert from_env.database_url == "sqlite:////var/lib/sb/store.db"
    for bad, reason in (
        ("mysql://sb:hunter2@db/x", "unsupported database 'mysql'"),
        ("postgresql://sb:hunter2@db.example", "names no database"),
        ("hunter2", "not a database URL"),
    ):
        with pytest.raises(ConfigError, match=reason) as refused:
            parse("--database-url", bad)
        assert "hunter2" not in str(refused.value)
        assert str(refused.value).startswith("--database-url: invalid value (")


def test_a_cluster_node_needs_postgresql_and_redis_and_errors_never_quote_the_url() -> None:
    store = ("--database-url", "postgresql://sb@db.example/switchboard")
    redis_url = ("--redis-url", "redis://:hunter2@redis.example:6379/0")
    node = parse("--node-id", "node-1.eu", *store, *redis_url)
    assert (node.node_id, node.lease_seconds) == ("node-1.eu", 10.0)
    assert node.redis_url == "redis://:hunter2@redis.example:6379/0"
    assert parse(*store).node_id is None  # the only server of its store
    for argv, reason in (
        (("--node-id", "a", *redis_url), "share a PostgreSQL store"),
        (("--node-id", "a", "--database-url", "sqlite:////tmp/x.db", *redis_url), "PostgreSQL"),
        (("--node-id", "a", *store), "give --redis-url"),
        ((*store, *redis_url), "give --node-id too"),
        (("--node-id=.a", *store, *redis_url), "first a letter or digit"),
        (("--node-id", "a/b", *store, *redis_url), "letters, digits"),
        (("--node-id", "a", *store, "--lease-seconds", "0", *redis_url), "--lease-seconds"),
    ):
        with pytest.raises(ConfigError, match=reason):
            parse(*argv)
    with pytest.raises(ConfigError, match="not a Redis URL") as refused:
        parse("--node-id", "a", *store, "--redis-url", "http://:hunter2@x/")
    assert "hunter2" not in str(refused.value)
