"""nrnivmodl build of hh_models/mod: stamp, rebuild only when stale, loadable hhx."""

from __future__ import annotations

from pathlib import Path

import pytest

from hh_models.mechanisms import compile_mechanisms, is_current, load_mechanisms, mod_digest


def _library(build_dir: Path) -> Path:
    return next(build_dir.glob("*/libnrnmech.so"))


def test_compile_writes_stamp_and_skips_when_current(tmp_path: Path) -> None:
    stamp = tmp_path / "nrnmech" / "mod.sha256"
    build_dir = compile_mechanisms(stamp_path=stamp)
    assert build_dir == stamp.parent.resolve()
    assert stamp.read_text().strip() == mod_digest()
    assert (build_dir / "hhx.mod").is_file() and is_current(stamp)
    built = _library(build_dir).stat().st_mtime_ns
    compile_mechanisms(stamp_path=stamp)
    assert _library(build_dir).stat().st_mtime_ns == built, "a current build must not recompile"
    stamp.write_text("stale\n")
    assert not is_current(stamp)
    compile_mechanisms(stamp_path=stamp)
    assert is_current(stamp) and _library(build_dir).stat().st_mtime_ns != built


def test_load_mechanisms_is_idempotent() -> None:
    from neuron import h

    load_mechanisms()
    load_mechanisms()
    assert hasattr(h, "mshift_hhx") and hasattr(h, "hshift_hhx")


def test_refuses_to_clean_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(RuntimeError, match="refusing to build"):
        compile_mechanisms(stamp_path=tmp_path / "mod.sha256")
    assert (tmp_path / "precious.txt").read_text() == "keep me"
