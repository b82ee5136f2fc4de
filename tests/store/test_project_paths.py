import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from switchboard.printable import printable
from switchboard.project_paths import (
    REFUSED_DIRECTORIES,
    REFUSED_TREES,
    ProjectPathError,
    check_project_path,
    directory_cwd,
    open_project_directory,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "code" / "app" / "src").mkdir(parents=True)
    (tmp_path / "code" / "lib").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "code" / "notes.txt").write_text("x")
    (tmp_path / "link-to-app").symlink_to(tmp_path / "code" / "app")
    return tmp_path


def problem(raw: Path | str, registered: list[Path], roots: list[Path] | None = None) -> str:
    with pytest.raises(ProjectPathError) as error:
        check_project_path(raw, registered, roots or [])
    return error.value.code


def test_a_directory_becomes_its_canonical_path(tree: Path) -> None:
    assert check_project_path(tree / "link-to-app", []) == (tree / "code" / "app").resolve()
    assert check_project_path(tree / "code" / "lib" / ".." / "app", []) == tree / "code" / "app"


def test_missing_and_file_paths_are_refused(tree: Path) -> None:
    assert problem(tree / "nope", []) == "not_found"
    assert problem(tree / "code" / "notes.txt", []) == "not_a_directory"


def test_projects_do_not_nest_either_way(tree: Path) -> None:
    app = tree / "code" / "app"
    assert problem(app / "src", [app]) == "nested"
    assert problem(tree / "code", [app]) == "contains"
    assert problem(tree / "link-to-app", [app]) == "duplicate"
    assert check_project_path(tree / "code" / "lib", [app]) == tree / "code" / "lib"


def test_siblings_with_a_common_prefix_are_not_nested(tree: Path) -> None:
    (tree / "code" / "app2").mkdir()
    assert check_project_path(tree / "code" / "app2", [tree / "code" / "app"])


def test_allowed_roots_confine_projects(tree: Path) -> None:
    roots = [tree / "code"]
    assert check_project_path(tree / "code" / "app", [], roots)
    assert check_project_path(tree / "code", [], roots)
    assert problem(tree / "elsewhere", [], roots) == "outside_roots"


def test_errors_say_what_is_wrong(tree: Path) -> None:
    with pytest.raises(ProjectPathError, match="lies inside the project"):
        check_project_path(tree / "code" / "app" / "src", [tree / "code" / "app"])


# -- hardening: every bad path gets a code of its own, never an exception of another kind


@pytest.mark.parametrize(
    "bad",
    ["a\x00b", "a\nb", "a\rb", "\x1b[31mred", "a\x7fb", "a\x85b", "a\u2028b", "a\ud800b"],
    ids=["nul", "newline", "cr", "escape", "del", "c1", "line-separator", "lone-surrogate"],
)
def test_control_characters_are_a_bad_path_shown_escaped(tree: Path, bad: str) -> None:
    (tree / "ok").mkdir()
    with pytest.raises(ProjectPathError) as error:
        check_project_path(f"{tree}/ok/{bad}", [])
    assert error.value.code == "bad_path"
    assert "control character" in error.value.message
    assert error.value.message.isprintable()  # no raw control character in the message


def test_what_the_os_refuses_is_a_path_problem(tree: Path) -> None:
    (tree / "loop-a").symlink_to(tree / "loop-b")
    (tree / "loop-b").symlink_to(tree / "loop-a")
    assert problem(tree / ("x" * 300), []) == "bad_path"  # a name too long
    assert problem(str(tree) + "/a" * 2100, []) == "bad_path"  # a path too long
    assert problem(tree / "loop-a", []) == "bad_path"
    assert problem(tree / "loop-a" / "deeper", []) == "bad_path"
    assert problem("~no-such-user-switchboard/x", []) == "bad_path"
    assert problem("", []) == "bad_path"
    assert problem(tree / "code" / "notes.txt" / "deeper", []) == "not_a_directory"


def test_a_long_path_is_shortened_in_the_message(tree: Path) -> None:
    with pytest.raises(ProjectPathError) as error:
        check_project_path(str(tree) + "/a" * 2100, [])
    assert len(error.value.message) < 500 and "characters)" in error.value.message


def test_permission_denied_is_access_denied(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests may run as root, whom no permission stops: the OS's answer is simulated.
    def denied(self: Path, **_: object) -> os.stat_result:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "stat", denied)
    with pytest.raises(ProjectPathError) as error:
        check_project_path(tree / "code", [])
    assert error.value.code == "access_denied"
    assert "permission denied (the server runs as " in error.value.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root is never denied")
def test_an_unsearchable_parent_is_access_denied(tree: Path) -> None:
    locked = tree / "locked"
    (locked / "inside").mkdir(parents=True)
    locked.chmod(0)
    try:
        assert problem(locked / "inside", []) == "access_denied"
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    "path", ["/", "/etc", "/etc/ssl", "/proc", "/proc/self", "/sys", "/sys/kernel", "/dev"]
)
def test_system_directories_are_never_projects(path: str) -> None:
    with pytest.raises(ProjectPathError) as error:
        check_project_path(path, [], [Path("/")])
    assert error.value.code == "system_directory"


def test_boot_and_what_is_under_it_are_refused_even_when_missing() -> None:
    assert problem("/boot", [], [Path("/")]) == "system_directory"
    assert problem("/boot/switchboard-not-there", [], [Path("/")]) == "system_directory"
    assert [str(d) for d in REFUSED_DIRECTORIES] == ["/"]
    assert {str(t) for t in REFUSED_TREES} == {"/etc", "/proc", "/sys", "/dev", "/boot"}


def test_a_symlink_into_a_system_directory_is_refused(tree: Path) -> None:
    (tree / "etc-link").symlink_to("/etc")
    assert problem(tree / "etc-link", [], [Path("/")]) == "system_directory"


def test_the_widest_root_allows_other_directories(tree: Path) -> None:
    assert check_project_path(tree / "code", [], [Path("/")]) == tree / "code"
    assert check_project_path("/usr", [], [Path("/")]) == Path("/usr").resolve()


# -- opening a registered project's directory when a run starts


def test_the_registered_directory_opens_as_itself(tree: Path) -> None:
    app = tree / "code" / "app"
    fd = open_project_directory(app)
    try:
        assert fd > 2
        assert os.path.samestat(os.stat(fd), os.stat(app))
    finally:
        os.close(fd)


def test_a_project_directory_swapped_for_a_symlink_is_refused(tree: Path) -> None:
    app = tree / "code" / "app"
    app.rename(tree / "code" / "app-moved")
    app.symlink_to(tree / "elsewhere")
    with pytest.raises(ProjectPathError) as error:
        open_project_directory(app)
    assert error.value.message == (
        f"{app} is a symlink (to {tree / 'elsewhere'}); "
        "a project's path is not followed through symlinks"
    )


def test_a_parent_swapped_for_a_symlink_is_refused(tree: Path) -> None:
    (tree / "elsewhere" / "app").mkdir()
    (tree / "code").rename(tree / "code-moved")
    (tree / "code").symlink_to(tree / "elsewhere")
    with pytest.raises(ProjectPathError, match=r"/code is a symlink \(to "):
        open_project_directory(tree / "code" / "app")


def test_a_missing_or_replaced_project_directory_is_refused(tree: Path) -> None:
    with pytest.raises(ProjectPathError, match="does not exist"):
        open_project_directory(tree / "gone")
    with pytest.raises(ProjectPathError, match=r"notes\.txt is not a directory"):
        open_project_directory(tree / "code" / "notes.txt")
    with pytest.raises(ProjectPathError) as error:
        open_project_directory(Path("/etc"))
    assert error.value.code == "system_directory"


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_a_process_started_in_the_opened_directory_is_there_whatever_the_path_becomes(
    tree: Path,
) -> None:
    app = tree / "code" / "app"
    fd = open_project_directory(app)
    try:
        cwd = directory_cwd(fd, app)
        app.rename(tree / "code" / "app-moved")  # the swap, after the check
        app.symlink_to(tree / "elsewhere")
        where = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getcwd())"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    finally:
        os.close(fd)
    assert where == str(tree / "code" / "app-moved")


def test_printable_escapes_what_could_forge_a_log_line() -> None:
    assert printable("/home/me/code") == "/home/me/code"
    assert printable("/x\nINFO forged") == "/x\\nINFO forged"
    assert printable("a\x00b\x1b[0m\u2028c\\n") == "a\\x00b\\x1b[0m\\u2028c\\\\n"
    assert printable(Path("/tmp/é")) == "/tmp/é"
