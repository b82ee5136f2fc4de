from pathlib import Path

import pytest

from switchboard.store.project_paths import ProjectPathError, check_project_path


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
