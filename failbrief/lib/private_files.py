"""Files only the service's own user may read: the embedded SQLite database and broker, the vault key.

Pure: no Django, no settings. SQLite creates a database's -wal and -shm files with the database
file's own mode, so a database file made 0600 before SQLite first opens it keeps its companions
private too."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Make the directory (and its parents) if missing; make it 0700 when it is ours to change."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    # A directory the service does not own (a mount point, a shared parent) keeps its mode: the
    # files inside are 0600 themselves.
    with contextlib.suppress(PermissionError):
        path.chmod(PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Make an empty file 0600 if missing (an empty file is a valid empty SQLite database), and make
    an existing one 0600: an install made before this was world-readable."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    with contextlib.suppress(PermissionError):
        path.chmod(PRIVATE_FILE)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            companion.chmod(PRIVATE_FILE)


def write_private(path: Path, text: str) -> None:
    """Replace the file's contents all at once: a reader sees the old text or the new, never half."""
    private_dir(path.parent)
    temporary = _written_temporary(path, text)
    os.replace(temporary, path)


def create_private(path: Path, text: str) -> bool:
    """Create the file with this text unless it exists; False when another process made it first.
    It appears complete or not at all, so a process that loses the race reads the winner's text."""
    private_dir(path.parent)
    temporary = _written_temporary(path, text)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True


def _written_temporary(path: Path, text: str) -> Path:
    # mkstemp makes the file 0600 whatever the umask is.
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    return Path(name)
