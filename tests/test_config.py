"""The conditions table and config are rejected with a message naming file, line and column."""

from pathlib import Path

import pytest

from bridge.config import ConfigError, deep_merge, load_conditions, load_config

HEADER = "name\tgnabar\tgkbar\tgl\tdescription\n"


def write_table(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "conditions.tsv"
    path.write_text(header + body)
    return path


def test_default_table_loads(repo_root: Path) -> None:
    conditions = load_conditions(repo_root / "config" / "conditions.tsv")
    assert [c.name for c in conditions] == ["control", "intermediate", "hyperexcitable"]
    assert [c.gnabar for c in conditions] == [0.12, 0.25, 1.0]
    assert all(c.v_rest_mV is None and c.m_shift_mV == 0.0 for c in conditions)


def test_both_configs_validate(repo_root: Path) -> None:
    full = load_config([repo_root / "config" / "config.yaml"])
    quick = load_config([repo_root / "config" / "config.yaml", repo_root / "config" / "quick.yaml"])
    assert full["hh"]["dt_ms"] == quick["hh"]["dt_ms"]
    assert quick["hh"]["noise"]["duration_ms"] < full["hh"]["noise"]["duration_ms"]


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (
            "a\tabc\t0.036\t0.0003\tx\n",
            HEADER,
            r"line 2 \(condition 'a'\), column 'gnabar': 'abc' is not a number",
        ),
        (
            "a\t0.12\t-0.036\t0.0003\tx\n",
            HEADER,
            r"line 2 \(condition 'a'\), column 'gkbar': .*minimum",
        ),
        (
            "a\t0.12\t0.036\t0.0003\tx\na\t0.2\t0.036\t0.0003\ty\n",
            HEADER,
            r"line 3 \(condition 'a'\), column 'name': duplicate name, first used on line 2",
        ),
        (
            "bad/name\t0.12\t0.036\t0.0003\tx\n",
            HEADER,
            r"line 2 \(condition 'bad/name'\), column 'name': .*not a path-safe name",
        ),
        (
            "a\t0.12\t0.036\t0.0003\tx\n",
            "name\tgnabar\tgkbar\tgl\tcolour\n",
            r"line 1: unknown column\(s\) \['colour'\]",
        ),
        (
            "a\t0.12\t0.036\n",
            "name\tgnabar\tgkbar\n",
            r"line 1: missing required column\(s\) \['gl'\]",
        ),
        (
            "a\t\t0.036\t0.0003\tx\n",
            HEADER,
            r"line 2 \(condition 'a'\), column 'gnabar': required value is empty",
        ),
        (
            "a\tnan\t0.036\t0.0003\tx\n",
            HEADER,
            r"line 2 \(condition 'a'\), column 'gnabar': nan is not a finite number",
        ),
    ],
    ids=[
        "non-numeric",
        "negative",
        "duplicate",
        "path-unsafe",
        "unknown-column",
        "missing-column",
        "empty-required",
        "nan",
    ],
)
def test_bad_rows_are_rejected_with_location(
    tmp_path: Path, body: str, header: str, expected: str
) -> None:
    path = write_table(tmp_path, body, header)
    with pytest.raises(ConfigError, match=expected) as info:
        load_conditions(path)
    assert str(path) in str(info.value)


def test_optional_columns_parse(tmp_path: Path) -> None:
    header = "name\tgnabar\tgkbar\tgl\tm_shift_mV\tnap_fraction\tv_rest_mV\n"
    path = write_table(tmp_path, "mut\t0.12\t0.036\t0.0003\t-5\t0.02\t-70\n", header)
    (cond,) = load_conditions(path)
    assert cond.m_shift_mV == -5.0 and cond.nap_fraction == 0.02 and cond.v_rest_mV == -70.0
    assert cond.needs_custom_mechanism


def test_bad_config_names_the_key(tmp_path: Path, repo_root: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("hh:\n  dt_ms: -1\n")
    with pytest.raises(ConfigError, match=r"key 'hh.dt_ms'"):
        load_config([repo_root / "config" / "config.yaml", bad])


def test_deep_merge_keeps_siblings() -> None:
    merged = deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}})
    assert merged == {"a": {"b": 1, "c": 3}}
