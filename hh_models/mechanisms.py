"""Compile the project's NMODL mechanisms (hh_models/mod/*.mod) with nrnivmodl and load them.

The build lives in ``build/nrnmech`` next to a stamp file holding the SHA-256 of the
.mod sources (names and contents) and of the NEURON version, so a changed .mod or an
upgraded NEURON triggers a rebuild and nothing else does. ``python -m hh_models.mechanisms``
compiles; the workflow rule ``hh_mechanisms`` calls :func:`compile_mechanisms`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from bridge import REPO_ROOT

log = logging.getLogger(__name__)

MOD_DIR = Path(__file__).resolve().parent / "mod"
DEFAULT_STAMP = REPO_ROOT / "build" / "nrnmech" / "mod.sha256"
LOCK_NAME = ".compile.lock"

_loaded_dirs: set[Path] = set()


def mod_files(mod_dir: Path = MOD_DIR) -> list[Path]:
    files = sorted(mod_dir.glob("*.mod"))
    if not files:
        raise FileNotFoundError(f"{mod_dir}: no .mod files to compile")
    return files


def mod_digest(mod_dir: Path = MOD_DIR) -> str:
    """SHA-256 over every .mod file's name and bytes, and the NEURON version."""
    digest = hashlib.sha256()
    digest.update(f"neuron {metadata.version('neuron')}\n".encode())
    for path in mod_files(mod_dir):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def nrnivmodl_path() -> Path:
    """The nrnivmodl installed beside the running interpreter (same NEURON as ``import neuron``)."""
    candidate = Path(sys.executable).parent / "nrnivmodl"
    if candidate.is_file():
        return candidate
    found = shutil.which("nrnivmodl")
    if found is None:
        raise FileNotFoundError(
            f"nrnivmodl not found next to {sys.executable} nor on PATH; install NEURON (pip)"
        )
    return Path(found)


def _library_present(build_dir: Path) -> bool:
    """nrnivmodl puts the library in a folder named after the machine (x86_64, aarch64...)."""
    return (build_dir / platform.machine() / "libnrnmech.so").is_file()


def is_current(stamp_path: Path) -> bool:
    """True when the stamp matches the sources and the compiled library is there."""
    stamp_path = Path(stamp_path)
    return (
        stamp_path.is_file()
        and stamp_path.read_text().strip() == mod_digest()
        and _library_present(stamp_path.parent)
    )


@contextmanager
def _build_lock(build_dir: Path) -> Iterator[None]:
    """Exclusive lock so parallel jobs never compile into the same folder at once."""
    build_dir.mkdir(parents=True, exist_ok=True)
    with open(build_dir / LOCK_NAME, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _check_build_dir(build_dir: Path, stamp_path: Path) -> None:
    """Refuse to clean a folder that holds anything but a previous build of ours."""
    if build_dir == MOD_DIR:
        raise ValueError(f"{build_dir}: the build folder must not be the .mod source folder")
    ours = {LOCK_NAME, stamp_path.name, stamp_path.name + ".tmp", platform.machine()}
    foreign = [p.name for p in build_dir.iterdir() if p.name not in ours and p.suffix != ".mod"]
    if foreign:
        raise RuntimeError(
            f"{build_dir}: refusing to build NEURON mechanisms into a folder that holds "
            f"other files {sorted(foreign)[:5]}; give the stamp its own folder"
        )


def _compile(build_dir: Path, digest: str, stamp_path: Path) -> None:
    _check_build_dir(build_dir, stamp_path)
    stamp_path.unlink(missing_ok=True)
    for old in build_dir.glob("*.mod"):
        old.unlink()
    shutil.rmtree(build_dir / platform.machine(), ignore_errors=True)
    for src in mod_files():
        shutil.copy2(src, build_dir / src.name)
    cmd = [str(nrnivmodl_path())]
    log.info("compiling %s in %s", [p.name for p in mod_files()], build_dir)
    result = subprocess.run(cmd, cwd=build_dir, capture_output=True, text=True)
    if result.returncode != 0 or not _library_present(build_dir):
        raise RuntimeError(
            f"nrnivmodl failed in {build_dir} (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    tmp = stamp_path.with_name(stamp_path.name + ".tmp")
    tmp.write_text(digest + "\n")
    tmp.replace(stamp_path)
    log.info("compiled mechanisms; stamp %s", stamp_path)


def compile_mechanisms(stamp_path: str | Path = DEFAULT_STAMP, force: bool = False) -> Path:
    """Compile hh_models/mod/*.mod into the stamp's folder unless the stamp is current.

    Returns the build folder (the one to pass to ``neuron.load_mechanisms``).
    """
    stamp_path = Path(stamp_path).resolve()
    build_dir = stamp_path.parent
    with _build_lock(build_dir):
        if force or not is_current(stamp_path):
            _compile(build_dir, mod_digest(), stamp_path)
        else:
            log.info("mechanisms up to date (%s)", stamp_path)
    return build_dir


def load_mechanisms(stamp_path: str | Path = DEFAULT_STAMP) -> None:
    """Make the project's mechanisms (``hhx``) available in this process; idempotent.

    Compiles first when the stamp is missing or stale.
    """
    build_dir = Path(stamp_path).resolve().parent
    if build_dir in _loaded_dirs:
        return
    import neuron
    from neuron import h

    if hasattr(h, "mshift_hhx"):
        # Already loaded in this process (e.g. from another build folder).
        _loaded_dirs.add(build_dir)
        return
    compile_mechanisms(stamp_path)
    if not neuron.load_mechanisms(str(build_dir), warn_if_already_loaded=False):
        raise RuntimeError(f"NEURON could not load the mechanisms compiled in {build_dir}")
    if not hasattr(h, "mshift_hhx"):
        raise RuntimeError(f"{build_dir}: library loaded but the hhx mechanism is missing")
    _loaded_dirs.add(build_dir)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    build_dir = compile_mechanisms()
    print(build_dir)


if __name__ == "__main__":
    main()
