"""`utils.atomic_files`: an artifact is replaced whole or not at all."""

import os
import stat
import subprocess
import sys

import pytest

from keras_albert.utils import atomic_files
from keras_albert.utils.atomic_files import atomic_directory
from keras_albert.utils.atomic_files import atomic_file
from keras_albert.utils.atomic_files import atomic_files as file_group


class Boom(Exception):
    pass


def tree(root):
    """`{relative path: bytes}` of every file under `root` (links as
    `-> target`)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs
                             if os.path.islink(os.path.join(folder, d))]:
            path = os.path.join(folder, name)
            key = os.path.relpath(path, root)
            if os.path.islink(path):
                out[key] = "-> " + os.readlink(path)
            else:
                with open(path, "rb") as f:
                    out[key] = f.read()
    return out


def write(folder, files):
    for name, text in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


def old_artifact(tmp_path):
    target = tmp_path / "preset"
    write(target, {"config.json": "old", "task.json": "old task",
                   "assets/tokenizer/spiece.model": "old spm",
                   "NOTES.md": "mine", "runs/1.txt": "user data"})
    return str(target)


def test_new_directory_appears_complete(tmp_path):
    target = tmp_path / "a" / "b"
    with atomic_directory(target) as tmp:
        assert not target.exists()
        assert os.path.dirname(tmp) == str(tmp_path / "a")
        write(tmp, {"x.txt": "1"})
    assert tree(target) == {"x.txt": b"1"}
    assert os.listdir(tmp_path / "a") == ["b"]


def test_replacement_drops_owned_files_and_keeps_the_users(tmp_path):
    target = old_artifact(tmp_path)
    with atomic_directory(target, owned=["config.json", "task.json",
                                         "assets"]) as tmp:
        write(tmp, {"config.json": "new"})
    assert tree(target) == {"config.json": b"new", "NOTES.md": b"mine",
                            "runs/1.txt": b"user data"}
    assert os.listdir(tmp_path) == ["preset"]


def test_without_owned_only_rewritten_entries_change(tmp_path):
    target = old_artifact(tmp_path)
    with atomic_directory(target) as tmp:
        write(tmp, {"config.json": "new"})
    files = tree(target)
    assert files["config.json"] == b"new"
    assert files["task.json"] == b"old task"


@pytest.mark.parametrize("where", ["body", "carry", "fsync", "swap"])
def test_a_failure_leaves_the_previous_directory(tmp_path, monkeypatch,
                                                  where):
    target = old_artifact(tmp_path)
    before = tree(target)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    if where == "carry":
        monkeypatch.setattr(atomic_files, "_link_or_copy",
                            lambda *a: (_ for _ in ()).throw(Boom()))
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync",
                            lambda fd: (_ for _ in ()).throw(Boom()))
    elif where == "swap":
        rename = os.rename
        calls = []

        def second_rename_fails(src, dst):
            calls.append(src)
            if len(calls) == 2:  # old -> backup done; new -> target fails
                raise Boom()
            return rename(src, dst)

        monkeypatch.setattr(os, "rename", second_rename_fails)
    with pytest.raises(Boom):
        with atomic_directory(target, owned=["config.json"]) as tmp:
            write(tmp, {"config.json": "new"})
            if where == "body":
                raise Boom()
    monkeypatch.undo()
    assert tree(target) == before
    assert stat.S_IMODE(os.stat(target).st_mode) == mode
    assert os.listdir(tmp_path) == ["preset"]


def test_mode_of_a_replaced_directory_is_kept(tmp_path):
    target = old_artifact(tmp_path)
    os.chmod(target, 0o750)
    with atomic_directory(target) as tmp:
        write(tmp, {"config.json": "new"})
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o750


def test_a_file_in_the_way_is_refused_before_writing(tmp_path):
    target = tmp_path / "taken"
    target.write_text("a file")
    with pytest.raises(FileExistsError, match="not a directory"):
        with atomic_directory(target):
            pytest.fail("must not be entered")
    assert target.read_text() == "a file"


def test_a_symlinked_directory_is_replaced_behind_the_link(tmp_path):
    real = old_artifact(tmp_path)
    link = tmp_path / "link"
    os.symlink(real, link)
    with atomic_directory(link, owned=["task.json"]) as tmp:
        write(tmp, {"config.json": "new"})
    assert os.path.islink(link)
    assert tree(link)["config.json"] == b"new"
    assert "task.json" not in tree(real)


def test_the_working_directory_may_be_the_target(tmp_path, monkeypatch):
    target = old_artifact(tmp_path)
    monkeypatch.chdir(target)
    with atomic_directory(".", owned=["config.json"]) as tmp:
        write(tmp, {"config.json": "new"})
    assert os.getcwd() == target
    with open("config.json") as f:
        assert f.read() == "new"


def test_a_mount_point_is_swapped_entry_by_entry(tmp_path, monkeypatch):
    target = old_artifact(tmp_path)
    monkeypatch.setattr(os.path, "ismount", lambda p: p == target)
    with atomic_directory(target, owned=["config.json", "task.json"]) as tmp:
        assert os.path.dirname(tmp) == target  # staged inside
        write(tmp, {"config.json": "new"})
    files = tree(target)
    assert files["config.json"] == b"new" and "task.json" not in files
    assert files["NOTES.md"] == b"mine"
    assert sorted(os.listdir(target)) == ["NOTES.md", "assets",
                                          "config.json", "runs"]
    before = tree(target)
    with pytest.raises(Boom):
        with atomic_directory(target, owned=["config.json"]) as tmp:
            write(tmp, {"config.json": "newer"})
            raise Boom()
    assert tree(target) == before


def _dead_pid():
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_leftovers_of_a_killed_writer_are_cleaned_up(tmp_path):
    pid = _dead_pid()
    # Killed between "old -> backup" and "new -> target": the backup is
    # the only copy of the previous artifact and comes back.
    backup = tmp_path / f".preset.old-{pid}-0a1b2c3d"
    write(backup, {"config.json": "old"})
    stale_tmp = tmp_path / f".preset.tmp-{pid}-0a1b2c3d"
    write(stale_tmp, {"config.json": "half"})
    atomic_files.remove_stale_temporaries(tmp_path)
    assert os.listdir(tmp_path) == ["preset"]
    assert tree(tmp_path / "preset") == {"config.json": b"old"}
    # A live writer's temporary folder is left alone.
    live = tmp_path / f".preset.tmp-{os.getpid()}-0a1b2c3d"
    live.mkdir()
    atomic_files.remove_stale_temporaries(tmp_path)
    assert live.exists()


def test_file_group_replaces_together_and_removes_unwritten(tmp_path):
    write(tmp_path, {"m.tflite": "old", "m.json": "old settings",
                     "m.spiece.model": "old spm", "other.tflite": "other"})
    with file_group(tmp_path, ["m.spiece.model", "m.tflite", "m.json"]
                    ) as staging:
        write(staging, {"m.tflite": "new", "m.json": "new settings"})
        assert tree(tmp_path)["m.tflite"] == b"old"
    assert tree(tmp_path) == {"m.tflite": b"new", "m.json": b"new settings",
                              "other.tflite": b"other"}


@pytest.mark.parametrize("failing_rename", [1, 2, 3, 4, 5])
def test_file_group_failure_at_any_rename_restores(tmp_path, monkeypatch,
                                                   failing_rename):
    write(tmp_path, {"a": "old a", "b": "old b", "keep": "k"})
    before = tree(tmp_path)
    rename = os.rename
    calls = []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) == failing_rename:
            raise Boom()
        return rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    with pytest.raises(Boom):
        with file_group(tmp_path, ["a", "b", "c"]) as staging:
            write(staging, {"a": "new a", "b": "new b", "c": "new c"})
    monkeypatch.undo()
    assert len(calls) >= failing_rename
    assert tree(tmp_path) == before


def test_atomic_file(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("old")
    os.chmod(path, 0o640)
    with pytest.raises(Boom):
        with atomic_file(path, "w") as f:
            f.write("half")
            raise Boom()
    assert path.read_text() == "old"
    with atomic_file(path, "w", encoding="utf-8") as f:
        f.write("new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["settings.json"]
    with pytest.raises(IsADirectoryError):
        with atomic_file(tmp_path, "w"):
            pass
