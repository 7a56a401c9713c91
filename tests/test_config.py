"""The conditions table and config are rejected with a message naming file, line and column."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.config import ConfigError, deep_merge, load_conditions, load_config, validate_config

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


def override(tmp_path: Path, repo_root: Path, text: str) -> list[Path]:
    path = tmp_path / "override.yaml"
    path.write_text(text)
    return [repo_root / "config" / "config.yaml", path]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("foo_typo: 1\n", "foo_typo"),
        ("hh:\n  steps:\n    foo: 1\n", r"hh\.steps\.foo"),
        ("autoencoder:\n  paper_scenarios:\n    s1_benchmark: {betta: 0.5}\n", "betta"),
    ],
    ids=["top-level", "nested", "inside-a-named-entry"],
)
def test_unknown_keys_are_rejected_with_their_path(
    tmp_path: Path, repo_root: Path, text: str, key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"key '[\w.]*{key}': unknown key"):
        load_config(override(tmp_path, repo_root, text))


def test_missing_section_is_named(repo_root: Path) -> None:
    config = load_config([repo_root / "config" / "config.yaml"])
    del config["autoencoder"]
    with pytest.raises(ConfigError, match=r"key 'autoencoder': required key is missing"):
        validate_config(config)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "regressor:\n  training:\n    washout_steps: 100\n",
            r"'regressor\.training\.washout_steps'",
        ),
        (
            "regressor:\n  training:\n    window_steps: 5000\n",
            r"'regressor\.training\.window_steps'.*span",
        ),
        ("compare:\n  noisy_sigma: 0.25\n", r"'compare\.noisy_sigma'.*not one of"),
        (
            "autoencoder:\n  noise:\n    sigmas: [0.1, 0.2]\n",
            r"'autoencoder\.noise\.sigmas'.*lacks 0",
        ),
        ("autoencoder:\n  benchmark_scenario: s9\n", r"'autoencoder\.benchmark_scenario'.*'s9'"),
        ("autoencoder:\n  run_paper_scenarios: [s9]\n", r"'autoencoder\.run_paper_scenarios'.*s9"),
        ("autoencoder:\n  null_seeds: [42]\n", r"'autoencoder\.null_seeds'.*already in seeds"),
        ("compare:\n  claims:\n    overfiring_scenario: s9\n", r"overfiring_scenario'.*'s9'"),
        ("mapping:\n  reference_condition: 'a b'\n", r"'mapping\.reference_condition'"),
        ("regressor:\n  seeds: [1, 1]\n", r"'regressor\.seeds'.*more than once"),
        ("hh:\n  dt_ms: 0.5\n", r"'hh\.dt_ms'.*0\.1"),
    ],
)
def test_bad_values_and_relations_name_the_key(
    tmp_path: Path, repo_root: Path, text: str, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(override(tmp_path, repo_root, text))


@pytest.mark.parametrize(
    "overrides", [[], ["config/quick.yaml"], ["tests/configs/tiny.yaml"]], ids=str
)
def test_snakemake_validate_accepts_the_shipped_configs(repo_root: Path, overrides: list) -> None:
    """The generated schema works with Snakemake's validate and fills in nothing."""
    from snakemake.utils import validate

    paths = [repo_root / "config" / "config.yaml", *(repo_root / p for p in overrides)]
    config = load_config(paths)
    before = copy.deepcopy(config)
    validate(config, str(repo_root / "workflow" / "schemas" / "config.schema.yaml"))
    assert config == before


def test_snakemake_validate_rejects_what_the_models_reject(repo_root: Path) -> None:
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    config = load_config([repo_root / "config" / "config.yaml"])
    config["hh"]["steps"]["foo"] = 1
    with pytest.raises(WorkflowError, match="foo"):
        validate(config, str(repo_root / "workflow" / "schemas" / "config.schema.yaml"))


def test_misspelt_command_line_key_stops_the_dry_run(repo_root: Path) -> None:
    """``--config conditons=x`` is refused before any job, naming the key."""
    snakemake = Path(sys.executable).parent / "snakemake"
    result = subprocess.run(
        [str(snakemake), "-n", "--configfile", "config/quick.yaml", "--config", "conditons=x"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "config key 'conditons': unknown key" in result.stdout + result.stderr


def test_regressor_training_params_validate_without_paper_values(repo_root: Path) -> None:
    """The training rules pass the regressor section less paper_values (workflow/rules)."""
    from bridge.config.regressor import RegressorConfig, RegressorRunConfig

    section = load_config([repo_root / "config" / "config.yaml"])["regressor"]
    params = {k: v for k, v in section.items() if k != "paper_values"}
    assert RegressorRunConfig.from_config(params).training.epochs == section["training"]["epochs"]
    with pytest.raises(ConfigError, match=r"'regressor\.paper_values': required key is missing"):
        RegressorConfig.from_config(params, "regressor")


def test_config_imports_without_the_training_stack(repo_root: Path) -> None:
    """The compare stage's environment has no torch, snntorch or NEURON."""
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'torch', 'snntorch', 'neuron', 'brian2', 'efel'}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import bridge.config, bridge.config.generate\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", blocker], cwd=repo_root, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_config_model_names_are_the_registry_s() -> None:
    """compare.claims.gate_models accepts exactly the regressor's neuron models."""
    from typing import get_args

    from bridge.config.regressor import RegressorModel
    from bridge.neurons.registry import MODEL_NAMES

    assert set(get_args(RegressorModel)) == set(MODEL_NAMES)


def test_bom_and_crlf_tables_parse_as_the_plain_one(repo_root: Path, tmp_path: Path) -> None:
    # What spreadsheet programs write: UTF-8 with a byte-order mark, and/or CRLF line ends.
    plain = (repo_root / "config" / "conditions.tsv").read_text()
    expected = load_conditions(repo_root / "config" / "conditions.tsv")
    variants = {
        "bom": b"\xef\xbb\xbf" + plain.encode(),
        "crlf": plain.replace("\n", "\r\n").encode(),
        "bom-crlf": b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode(),
    }
    for label, data in variants.items():
        path = tmp_path / f"{label}.tsv"
        path.write_bytes(data)
        assert load_conditions(path) == expected, label


def test_crlf_table_errors_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "conditions.tsv"
    body = HEADER + "a\t0.12\t0.036\t0.0003\tx\n\nb\tfast\t0.036\t0.0003\ty\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("\n", "\r\n").encode())
    with pytest.raises(ConfigError, match=r"line 4 \(condition 'b'\), column 'gnabar': 'fast'"):
        load_conditions(path)


def test_latin1_byte_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "conditions.tsv"
    # 'Na+ gain, 37 °C' saved as Latin-1: the degree sign is the single byte 0xB0.
    body = HEADER + "a\t0.12\t0.036\t0.0003\tx\nb\t0.2\t0.036\t0.0003\tNa+ gain, 37 \xb0C\n"
    path.write_bytes(body.encode("latin-1"))
    with pytest.raises(
        ConfigError, match=r"line 3, byte 33: not UTF-8 text \(byte\(s\) b'\\xb0'\)"
    ):
        load_conditions(path)
    with pytest.raises(ConfigError) as info:
        load_conditions(path)
    assert str(path) in str(info.value)


def test_names_differing_only_in_case_are_rejected_naming_both_lines(tmp_path: Path) -> None:
    body = "control\t0.12\t0.036\t0.0003\tx\nmid\t0.2\t0.036\t0.0003\ty\nControl\t1\t0.036\t0.0003\tz\n"
    path = write_table(tmp_path, body)
    expected = (
        r"line 4 \(condition 'Control'\), column 'name': duplicate name, "
        r"first used on line 2 as 'control' \(names are compared case-insensitively\)"
    )
    with pytest.raises(ConfigError, match=expected):
        load_conditions(path)


@pytest.mark.parametrize("name", ["reference", "Reference"])
def test_reserved_name_is_rejected_naming_its_line(tmp_path: Path, name: str) -> None:
    path = write_table(tmp_path, f"a\t0.12\t0.036\t0.0003\tx\n{name}\t0.2\t0.036\t0.0003\ty\n")
    expected = (
        rf"line 3 \(condition '{name}'\), column 'name': '{name}' is reserved: "
        r"the regressor stage writes its trained arms under results/regressor/reference/"
    )
    with pytest.raises(ConfigError, match=expected):
        load_conditions(path)
