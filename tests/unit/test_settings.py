"""Settings: documented fields, TOML and CITYHUB_* sources, clear errors (DESIGN rule 8)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cityhub.settings import Settings, describe_settings, load_settings


@pytest.mark.parametrize("field", dataclasses.fields(Settings), ids=lambda f: f.name)
def test_settings_field_has_help_text(field: dataclasses.Field[object]) -> None:
    help_text = field.metadata.get("help", "")
    assert len(help_text) >= 15, f"{field.name} has no real help text"
    assert help_text[0].isupper() and help_text.rstrip().endswith((".", ")"))


def test_settings_defaults_describe_an_embedded_hub() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.backend == "sqlite"
    assert settings.multi_tenancy is True


def test_settings_environment_variables_are_read() -> None:
    settings = load_settings(
        environ={
            "CITYHUB_DATABASE_URL": "postgresql://u@127.0.0.1:5432/db",
            "CITYHUB_PORT": "8080",
            "CITYHUB_MULTI_TENANCY": "false",
            "CITYHUB_CONTEXT_FETCH_TIMEOUT": "2.5",
            "CITYHUB_LOG_LEVEL": "debug",
            "OTHER_PORT": "1",
        }
    )
    assert settings.backend == "postgres"
    assert (settings.port, settings.multi_tenancy) == (8080, False)
    assert settings.context_fetch_timeout == 2.5
    assert settings.log_level == "debug"


@pytest.mark.parametrize("table", ["", "[cityhub]\n"], ids=["top-level", "cityhub-table"])
def test_settings_toml_file_is_read(tmp_path: Path, table: str) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(
        f"{table}port = 9000\nmulti_tenancy = false\ncontext_fetch_timeout = 3\n"
        'context_allow_hosts = "schema.org"\n',
        encoding="utf-8",
    )
    settings = load_settings(environ={}, config_file=str(path))
    assert settings.port == 9000
    assert settings.multi_tenancy is False
    assert settings.context_fetch_timeout == 3.0
    assert settings.context_allow_hosts == "schema.org"
    assert settings.config_file == str(path)


def test_settings_environment_overrides_toml(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text("port = 9000\nworkers = 3\n", encoding="utf-8")
    env = {"CITYHUB_CONFIG_FILE": str(path), "CITYHUB_PORT": "9100"}
    settings = load_settings(environ=env)
    assert (settings.port, settings.workers) == (9100, 3)


def test_settings_explicit_overrides_win_over_environment() -> None:
    settings = load_settings(environ={"CITYHUB_PORT": "9100"}, port=9200)
    assert settings.port == 9200


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"CITYHUB_PORT": "eighty"}, ("port", "eighty")),
        ({"CITYHUB_PORT": "70000"}, ("port", "65535")),
        ({"CITYHUB_WORKERS": "0"}, ("workers",)),
        ({"CITYHUB_MAX_BODY_BYTES": "-1"}, ("max_body_bytes",)),
        ({"CITYHUB_MAX_JSON_DEPTH": "1.5"}, ("max_json_depth",)),
        ({"CITYHUB_MULTI_TENANCY": "maybe"}, ("multi_tenancy", "maybe")),
        ({"CITYHUB_CONTEXT_FETCH_TIMEOUT": "0"}, ("context_fetch_timeout",)),
        ({"CITYHUB_CONTEXT_FETCH_TIMEOUT": "soon"}, ("context_fetch_timeout",)),
        ({"CITYHUB_LOG_LEVEL": "loud"}, ("log_level", "loud")),
        ({"CITYHUB_DATABASE_URL": "mysql://db"}, ("database_url", "mysql")),
        ({"CITYHUB_CONFIG_FILE": "/nonexistent/hub.toml"}, ("/nonexistent/hub.toml",)),
    ],
)
def test_settings_bad_environment_value_raises_clear_error(
    environ: dict[str, str], words: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError) as caught:
        load_settings(environ=environ)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("port = true", ("port",)),
        ("port = 80.5", ("port",)),
        ('port = "80"', ("port",)),
        ('multi_tenancy = "yes please"', ("multi_tenancy",)),
        ("database_url = 5", ("database_url",)),
        ("no_such_setting = 1", ("no_such_setting",)),
        ("port = ", ("TOML",)),
        ('config_file = "other.toml"', ("config_file",)),
        ("cityhub = 5", ("cityhub",)),
    ],
)
def test_settings_bad_toml_value_raises_clear_error(
    tmp_path: Path, toml: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_settings(environ={}, config_file=str(path))
    for word in words:
        assert word in str(caught.value)


def test_describe_settings_lists_every_field() -> None:
    described = {env: help_text for env, help_text, _ in describe_settings()}
    assert set(described) == {f"CITYHUB_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    assert all(described.values())


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CITYHUB_")}
    return subprocess.run(
        [sys.executable, "-m", "cityhub", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
    )


def test_cli_settings_prints_every_setting_with_help_and_default() -> None:
    result = run_cli("settings")
    assert result.returncode == 0, result.stderr
    for field in dataclasses.fields(Settings):
        assert f"CITYHUB_{field.name.upper()}" in result.stdout
        first_words = " ".join(field.metadata["help"].split()[:4])
        assert first_words in result.stdout
        assert repr(field.default) in result.stdout


def test_cli_exits_with_message_when_a_setting_is_bad(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"CITYHUB_PORT": "eighty"})
    assert result.returncode == 2
    assert "port" in result.stderr and "eighty" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_exits_with_message_when_config_file_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    result = run_cli("--config", str(missing), "migrate")
    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
