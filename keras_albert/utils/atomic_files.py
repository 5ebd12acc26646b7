"""Writes that never leave a half-written artifact behind.

Everything the library writes to disk (presets, SavedModels, TFLite files,
fine-tuning outputs, pretraining checkpoints) is first written into a
temporary sibling of its target (same parent folder, so the same file
system), flushed to disk with `fsync`, and only then swapped into place:
the previous artifact is renamed to a backup sibling, the new one renamed
to the target, the backup removed. A failure at any point (an exception, a
full disk) leaves the previous artifact as it was and no temporary files;
a process killed in the middle leaves a `.NAME.tmp-PID-*` or
`.NAME.old-PID-*` sibling that the next write to the same place cleans up
(restoring the previous artifact if the swap itself was cut short).

Example:
```python
from keras_albert.utils.atomic_files import atomic_directory, atomic_file

with atomic_directory("my_preset", owned=["config.json", "*.h5"]) as tmp:
    write_everything_into(tmp)          # `my_preset` is untouched so far
with atomic_file("settings.json", "w", encoding="utf-8") as f:
    json.dump(settings, f)
```
"""

import contextlib
import errno
import fnmatch
import os
import re
import secrets
import shutil
import stat

_TEMPORARY = "tmp"
_BACKUP = "old"
# `.NAME.tmp-PID-HEX` / `.NAME.old-PID-HEX`
_SIBLING_RE = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-"
                         r"[0-9a-f]+$")


def _sibling(path, kind):
    parent, name = os.path.split(path)
    return os.path.join(
        parent, f".{name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    )


def _process_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.remove(path)


def remove_stale_temporaries(directory, name=None):
    """Cleans up after writers of this module that were killed mid-write.

    A temporary sibling of a dead process is deleted. A backup sibling of a
    dead process is the previous artifact of a swap cut short: it is put
    back when its target is missing, else deleted.

    Args:
        directory: the folder whose entries to look at.
        name: only siblings of this entry name; `None` for all.
    """
    directory = os.fspath(directory)
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = _SIBLING_RE.match(entry)
        if match is None or (name is not None and match["name"] != name):
            continue
        if _process_alive(int(match["pid"])):
            continue  # another writer at work
        path = os.path.join(directory, entry)
        target = os.path.join(directory, match["name"])
        if match["kind"] == _BACKUP and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(path, target)
                continue
        _remove(path)


def _fsync(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems cannot sync a directory; file data still is.
        if not (directory and e.errno in (errno.EINVAL, errno.EBADF)):
            raise
    finally:
        os.close(fd)


def _fsync_tree(root):
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                _fsync(path)
        _fsync(folder, directory=True)


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _link_or_copy(src, dst):
    # A hard link costs nothing and leaves the original untouched until
    # the swap; other file systems get a copy.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(old, new, owned):
    """Entries of `old` the new content keeps: those it does not rewrite
    and the artifact does not own (a user's notes, other models)."""
    for name in os.listdir(old):
        dst = os.path.join(new, name)
        if os.path.lexists(dst) or _matches(name, owned):
            continue
        src = os.path.join(old, name)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        elif os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True,
                            copy_function=_link_or_copy)
        else:
            _link_or_copy(src, dst)


def _working_directory_inside(path):
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    return cwd if cwd == path or cwd.startswith(path + os.sep) else None


def _swap_directory(new, path):
    """Renames `new` to `path`, keeping the previous `path` as a backup
    until the rename has happened."""
    parent = os.path.dirname(path)
    if not os.path.lexists(path):
        os.rename(new, path)
        try:
            _fsync(parent, directory=True)
        except BaseException:
            os.rename(path, new)
            raise
        return
    cwd = _working_directory_inside(path)
    backup = _sibling(path, _BACKUP)
    os.rename(path, backup)
    swapped = False
    try:
        os.rename(new, path)
        swapped = True
        # Until the renames are on disk the swap is not done; if that
        # fails, undo it rather than report an error with the new folder
        # in place.
        _fsync(parent, directory=True)
    except BaseException:
        if swapped:
            os.rename(path, new)
        os.rename(backup, path)
        raise
    if cwd is not None:
        # The process' working directory moved with the old folder.
        with contextlib.suppress(OSError):
            os.chdir(cwd if os.path.isdir(cwd) else path)
    shutil.rmtree(backup, ignore_errors=True)


def _swap_entries(staging, directory, names):
    """Replaces `directory/name` by `staging/name` for each of `names`
    (removing targets the staging folder lacks); all or none."""
    previous = os.path.join(staging, ".previous")
    os.mkdir(previous)
    moved_away, moved_in = [], []
    try:
        for name in names:
            target = os.path.join(directory, name)
            if os.path.lexists(target):
                os.rename(target, os.path.join(previous, name))
                moved_away.append(name)
        for name in names:
            source = os.path.join(staging, name)
            if os.path.lexists(source):
                os.rename(source, os.path.join(directory, name))
                moved_in.append(name)
        _fsync(directory, directory=True)
    except BaseException:
        for name in moved_in:
            _remove(os.path.join(directory, name))
        for name in moved_away:
            with contextlib.suppress(OSError):
                os.rename(os.path.join(previous, name),
                          os.path.join(directory, name))
        raise


@contextlib.contextmanager
def atomic_directory(path, owned=None):
    """Writes a directory so that it appears complete or not at all.

    Yields a fresh temporary sibling of `path`; when the block completes,
    its content (fsynced) replaces `path`. If the block raises, `path` is
    left exactly as it was and the temporary folder is removed.

    Entries of an existing `path` that the new content does not rewrite are
    carried over (hard-linked), unless they match `owned`: the names the
    artifact owns, so a file the previous artifact had and the new one
    lacks (a `task.json` over which a backbone is saved) does not linger.

    A `path` that is a mount point cannot be renamed; there the new entries
    are staged inside it and swapped one by one, each previous entry kept
    until all new ones are in place.

    Args:
        path: the directory to write (created with its parents if missing;
            a symbolic link is followed and the directory it names
            replaced).
        owned: glob patterns of top-level entry names the artifact owns
            (e.g. `["config.json", "*.weights.h5", "assets"]`); `None`:
            only the entries the new content rewrites are replaced.

    Yields:
        The temporary directory to write into.

    Raises:
        FileExistsError: `path` exists and is not a directory.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.islink(path):
        path = os.path.realpath(path)
    if os.path.lexists(path) and not os.path.isdir(path):
        raise FileExistsError(
            errno.EEXIST, "Exists and is not a directory; give a directory",
            path,
        )
    owned = tuple(owned or ())
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    remove_stale_temporaries(parent, os.path.basename(path))
    if os.path.isdir(path) and os.path.ismount(path):
        with _atomic_entries(path, owned) as staging:
            yield staging
        return
    new = _sibling(path, _TEMPORARY)
    os.mkdir(new)
    try:
        yield new
        # `os.mkdir` gave the new folder the umask's mode; a replaced
        # folder keeps its own.
        if os.path.isdir(path):
            _carry_over(path, new, owned)
            os.chmod(new, stat.S_IMODE(os.stat(path).st_mode))
        _fsync_tree(new)
        _swap_directory(new, path)
    finally:
        if os.path.lexists(new):
            shutil.rmtree(new, ignore_errors=True)


@contextlib.contextmanager
def _atomic_entries(directory, owned):
    """`atomic_directory` for a directory that cannot be renamed."""
    remove_stale_temporaries(directory)
    staging = _sibling(os.path.join(directory, "entries"), _TEMPORARY)
    os.mkdir(staging)
    try:
        yield staging
        _fsync_tree(staging)
        names = set(os.listdir(staging)) | {
            name for name in os.listdir(directory)
            if _matches(name, owned) and not _SIBLING_RE.match(name)
        }
        _swap_entries(staging, directory, sorted(names))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_files(directory, names):
    """Writes a set of files in `directory` that appear together.

    Yields a staging folder (a temporary sibling of the files); each of
    `names` written there replaces `directory/name` when the block
    completes, and each of `names` not written there is removed (a file
    the artifact owned before). Previous files are kept until every new
    one is in place; if the block raises, `directory` is unchanged.

    Args:
        directory: the folder of the files (created when missing).
        names: the file names the artifact owns, in the order they are
            put in place (put the file readers look for first last).

    Yields:
        The staging folder to write the files into, under their names.
    """
    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    names = list(names)
    for name in names:
        remove_stale_temporaries(directory, name)
    staging = _sibling(os.path.join(directory, names[0]), _TEMPORARY)
    os.mkdir(staging)
    try:
        yield staging
        for name in names:
            target = os.path.join(directory, name)
            source = os.path.join(staging, name)
            if os.path.isfile(source):
                # New files get the previous file's mode (temporary files
                # are created private by some writers).
                if os.path.isfile(target):
                    os.chmod(source, stat.S_IMODE(os.stat(target).st_mode))
                _fsync(source)
        _swap_entries(staging, directory, names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def atomic_file(path, mode="w", **open_kwargs):
    """Opens a file that replaces `path` only once it is completely written.

    Args:
        path: the file to write.
        mode: `open` mode for writing (`"w"` or `"wb"`).
        **open_kwargs: passed to `open` (e.g. `encoding="utf-8"`).

    Yields:
        The open file; `path` is replaced when the block completes and left
        as it was if the block raises.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    if os.path.isdir(path):
        raise IsADirectoryError(
            errno.EISDIR, "Is a directory; give a file path", path
        )
    with atomic_files(directory, [name]) as staging:
        with open(os.path.join(staging, name), mode, **open_kwargs) as f:
            yield f
