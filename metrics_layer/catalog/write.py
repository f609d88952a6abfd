"""Write a generated folder (the catalog) without harming what is already on disk.

A folder is written only when it is new, empty, or one this writer wrote before (it holds
MARKER); a folder with other content is an error unless `force`. A file or a symbolic link
at the target is never replaced: writing through a planted link would write into its
target. The pages are built in a temporary folder beside the target and swapped in with
renames, so a failed run leaves the old folder as it was and a reader never sees a mix of
old and new pages (nor stale pages of metrics that no longer exist).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from metrics_layer.errors import MetricsLayerError

MARKER = ".metrics-layer-catalog"
_MARKER_TEXT = "Written by metrics-layer docs; the whole folder is replaced on the next run.\n"


def write_folder(out: str | Path, files: Mapping[str, str | bytes], force: bool = False) -> Path:
    """Replace folder `out` by exactly `files` (relative path -> text or bytes)."""
    target = Path(out)
    _check_target(target, force)
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=parent))
    except OSError as exc:
        raise _error(target, exc) from None
    try:
        for rel, content in files.items():
            path = staging / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                raise MetricsLayerError(f"catalog page path {rel!r} leaves the folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        (staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        _publishable(staging)
        _swap(staging, target.absolute())
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise _error(target, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _check_target(target: Path, force: bool) -> None:
    if target.is_symlink():
        raise MetricsLayerError(
            f"cannot write the catalog to {target}: it is a symbolic link; give the real folder"
        )
    if not target.exists():
        return
    if not target.is_dir():
        raise MetricsLayerError(
            f"cannot write the catalog to {target}: it exists and is not a folder"
        )
    try:
        entries = list(target.iterdir())
    except OSError as exc:
        raise _error(target, exc) from None
    if entries and not (target / MARKER).is_file() and not force:
        raise MetricsLayerError(
            f"cannot write the catalog to {target}: the folder holds files it did not write "
            "(use an empty or new folder, or --force / force=True to replace its contents)"
        )


def _publishable(folder: Path) -> None:
    """mkdtemp makes a private folder: give it the permissions a new folder would get."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)


def _swap(staging: Path, target: Path) -> None:
    """Move the old folder aside, the new one in, then delete the old one."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _error(target: Path, exc: OSError) -> MetricsLayerError:
    reason = exc.strerror or type(exc).__name__
    return MetricsLayerError(f"cannot write the catalog to {target}: {reason}")
