"""Settings come from the environment and fail loudly, in one line, on malformed values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from lib.email_url import email_settings_from_url
from lib.env import env_bool, env_int, env_list, env_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("On", True), ("0", False), ("false", False)]
)
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("FLAG", not expected, {"FLAG": raw}) is expected


def test_env_bool_names_the_variable_on_garbage():
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", True, {"DEBUG": "maybe"})


def test_env_int_bounds_and_garbage():
    assert env_int("N", 5, {}) == 5
    assert env_int("N", 5, {"N": " 42 "}) == 42
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", 5, {"N": "4.5"})
    with pytest.raises(ImproperlyConfigured, match="N must be at most 10"):
        env_int("N", 5, {"N": "11"}, maximum=10)


def test_env_list_splits_and_trims():
    assert env_list("HOSTS", ["a"], {"HOSTS": " x.example , y.example ,"}) == [
        "x.example",
        "y.example",
    ]
    assert env_list("HOSTS", ["a"], {}) == ["a"]


def test_env_url_checks_scheme():
    assert (
        env_url("DATABASE_URL", "d", ("postgres",), {"DATABASE_URL": "postgres://h/db"})
        == "postgres://h/db"
    )
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be a URL"):
        env_url("DATABASE_URL", "d", ("postgres",), {"DATABASE_URL": "mysql://h/db"})


def test_email_url_becomes_smtp_settings():
    conf = email_settings_from_url("smtp+tls://mailer:p%40ss@smtp.example.com:2525")
    assert conf["EMAIL_HOST"] == "smtp.example.com"
    assert conf["EMAIL_PORT"] == 2525
    assert conf["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert conf["EMAIL_USE_TLS"] is True
    assert email_settings_from_url("smtp+ssl://smtp.example.com")["EMAIL_PORT"] == 465


def _clean_env(tmp_path, **env) -> dict[str, str]:
    dropped = {"DATABASE_URL", "REDIS_URL", "DEBUG", "CMSYNC_SANDBOX", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update(CMSYNC_VAR_DIR=str(tmp_path), **env)
    return base


def _manage(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production_secrets() -> dict[str, str]:
    return {
        "SECRET_KEY": "k" * 20 + "9f3b0c1d2e5a7b8c9d0e1f2a3b4c5d6e7f8a9b0c",
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }


@pytest.mark.parametrize(
    ("env", "installed"),
    [
        ({"DEBUG": "0"}, False),
        ({"DEBUG": "0", "CMSYNC_SANDBOX": "0"}, False),
        ({"DEBUG": "0", "CMSYNC_SANDBOX": "1"}, True),
        ({}, True),  # DEBUG defaults to 1
        ({"DEBUG": "1"}, True),
    ],
)
def test_the_sandbox_app_is_installed_only_with_debug_or_cmsync_sandbox(tmp_path, env, installed):
    code = "import cmsync.settings as s; print('sandbox' in s.INSTALLED_APPS)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_clean_env(tmp_path, **_production_secrets(), **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(installed)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("DATABASE_URL", "mysql://localhost/x", "DATABASE_URL must be a URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL"),
        ("FIELD_ENCRYPTION_KEY", "not-a-key", "FIELD_ENCRYPTION_KEY must be"),
        ("TIME_ZONE", "Mars/Olympus", "TIME_ZONE must be an IANA zone"),
        ("CMSYNC_HTTP_TIMEOUT", "soon", "CMSYNC_HTTP_TIMEOUT must be a whole number"),
        ("EMAIL_URL", "smtp://:25", "EMAIL_URL must name a host"),
    ],
)
def test_malformed_variable_stops_start_with_one_line(tmp_path, variable, value, message):
    result = _manage(tmp_path, "check", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_production_mode_refuses_to_start_without_secrets(tmp_path):
    result = _manage(tmp_path, "check", DEBUG="0")
    assert result.returncode == 2
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr
    result = _manage(tmp_path, "check", DEBUG="0", SECRET_KEY="x" * 60)
    assert "FIELD_ENCRYPTION_KEY must be set when DEBUG=0" in result.stderr
    result = _manage(
        tmp_path,
        "check",
        DEBUG="0",
        SECRET_KEY="short",
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )
    assert "SECRET_KEY must be a random string" in result.stderr


def test_production_mode_passes_deploy_checks(tmp_path):
    result = _manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        **_production_secrets(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_env_example_lists_every_variable_the_settings_read():
    settings_source = (ROOT / "cmsync" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    import re

    read = set(re.findall(r'env_(?:str|bool|int|list|url)\(\s*"([A-Z_]+)"', settings_source))
    assert read, "no variables found"
    missing = sorted(name for name in read if f"\n{name}=" not in "\n" + example)
    assert not missing
