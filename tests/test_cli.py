"""The command line: entry points, one-line errors, and secrets that never leak."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import secrets
from bot.cli import main
from bot.errors import AuthError, CondabotError


def test_python_dash_m_bot_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("condabot ")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["no-such-command"])
    assert exit_.value.code == 2


def test_error_codes_are_distinct() -> None:
    codes = {}
    for cls in [CondabotError, *CondabotError.__subclasses__()]:
        for sub in [cls, *cls.__subclasses__()]:
            codes.setdefault(sub.exit_code, set()).add(sub.__name__)
    assert all(len(names) == 1 for names in codes.values()), codes


def test_registered_secrets_never_reach_messages_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    secrets.register("s3cr3t-registry-password")
    error = AuthError("login to 127.0.0.1:5000 failed for user bob with s3cr3t-registry-password")
    assert "s3cr3t" not in error.message and "***" in error.message
    logger = logging.getLogger("condabot-test")
    handler = logging.StreamHandler()
    handler.addFilter(secrets.RedactingFilter())
    logger.addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            logger.info("header Authorization: Bearer %s", "abcdefghijklmnop")
            logger.info("token ghp_%s", "a" * 36)
    finally:
        logger.removeHandler(handler)
    assert "abcdefghijklmnop" not in caplog.text
    assert "ghp_aaaa" not in caplog.text


def test_url_userinfo_is_masked_wherever_it_appears() -> None:
    text = "GET https://bob:hunter2@mirror.example/miniconda/.files.json failed"
    assert secrets.redact(text) == "GET https://***@mirror.example/miniconda/.files.json failed"
    assert secrets.redact("clone https://x-access-token@github.com/o/r") == (
        "clone https://***@github.com/o/r"
    )
    assert secrets.redact("mail bob@example.com at http://host/a@b") == (
        "mail bob@example.com at http://host/a@b"
    )


@pytest.mark.parametrize(
    "text",
    [
        "An error occurred (AccessDeniedException) when calling the GetAuthorizationToken "
        "operation: User is not authorized",
        "The security token included in the request is invalid",
        "no token provided; set GITHUB_TOKEN",
    ],
)
def test_ordinary_words_after_token_are_not_masked(text: str) -> None:
    assert secrets.redact(text) == text


def test_token_shapes_are_still_masked() -> None:
    assert secrets.redact("Authorization: Bearer abcdefghijklmnop") == "Authorization: Bearer ***"
    assert secrets.redact("token 8f2c4e1a9b7d6c5e4f3a2b1c") == "token ***"
    assert "ghp_" not in secrets.redact("uses ghp_" + "a" * 36)


# -- settings: a bad value is a one-line usage error, never a traceback ---------------

NOTHING_LISTENS = "http://127.0.0.1:9"  # the discard port: a run that got this far fails fast


def bad_file(tmp_path: Path) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return str(path)


@pytest.mark.parametrize(
    ("env", "args", "what"),
    [
        ({"CONDABOT_HTTP_TIMEOUT": "abc"}, [], "CONDABOT_HTTP_TIMEOUT='abc'"),
        ({"CONDABOT_HTTP_CONNECT_TIMEOUT": "-1"}, [], "CONDABOT_HTTP_CONNECT_TIMEOUT='-1'"),
        ({"CONDABOT_HTTP_RETRIES": "2.5"}, [], "CONDABOT_HTTP_RETRIES='2.5'"),
        ({"CONDABOT_HTTP_BACKOFF": "nan"}, [], "CONDABOT_HTTP_BACKOFF='nan'"),
        ({"CONDABOT_HTTP_DEADLINE": "0"}, [], "CONDABOT_HTTP_DEADLINE='0'"),
        ({"CONDABOT_HTTP_REQUEST_DEADLINE": "inf"}, [], "CONDABOT_HTTP_REQUEST_DEADLINE='inf'"),
        ({"CONDABOT_VERBOSE": "x"}, [], "CONDABOT_VERBOSE='x'"),
        ({}, ["--upstream-url", "ftp://mirror.example"], "--upstream-url"),
        ({}, ["--upstream-url", "mirror.example/conda"], "--upstream-url"),
        ({}, ["--upstream-url", "http://127.0.0.1:99999"], "--upstream-url"),
        ({}, ["--cache-dir", "FILE"], "is not a directory"),
        ({"CONDABOT_CACHE_DIR": "FILE"}, [], "is not a directory"),
    ],
)  # fmt: skip
def test_bad_settings_exit_2_with_one_line(
    tmp_path: Path, env: dict[str, str], args: list[str], what: str
) -> None:
    env = {k: bad_file(tmp_path) if v == "FILE" else v for k, v in env.items()}
    args = [bad_file(tmp_path) if a == "FILE" else a for a in args]
    if "--cache-dir" not in args and "CONDABOT_CACHE_DIR" not in env:
        args += ["--cache-dir", str(tmp_path / "cache")]
    if "--upstream-url" not in args:
        args += ["--upstream-url", NOTHING_LISTENS]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "upstream", *args],
        env={**os.environ, "CONDABOT_HTTP_RETRIES": "0", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, ""), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("condabot: error: ")
    assert what in result.stderr


def test_start_up_imports_no_schema_validator_and_no_iri_parser() -> None:
    """`condabot --version` stays cheap: jsonschema loads only with a catalog, and never the
    IRI grammar a dev environment's format extra brings (about a second to build)."""
    probe = (
        "import sys, pathlib, bot.cli; before = 'jsonschema' in sys.modules; "
        "from bot.catalog import load_catalog; load_catalog(pathlib.Path('dockerfiles/images.yaml')); "
        "print(before, 'jsonschema' in sys.modules, sys.modules.get('rfc3987_syntax') is not None)"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True", "False"]


# -- start-up: a command's modules load only when it runs ---------------------------------

HEAVY = ("requests", "urllib3", "ruamel", "semver", "docker", "github", "boto3", "jsonschema")


def loaded_after(argv: list[str]) -> list[str]:
    """Which heavy libraries and condabot modules `main(argv)` imported, in a fresh process
    that may not retry a request."""
    probe = (
        "import sys\nfrom bot.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\nloaded:', *sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith(('bot.commands.', 'bot.release', 'bot.catalog', 'bot.http'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "CONDABOT_HTTP_RETRIES": "0"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.rsplit("loaded:", 1)[1].split()


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["no-such-command"]])
def test_version_and_help_import_no_command_and_no_heavy_library(argv: list[str]) -> None:
    assert loaded_after(argv) == []


def test_a_command_loads_its_own_modules_only() -> None:
    loaded = loaded_after(["plan", "--help"])
    assert "bot.commands.plan" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]  # upstream needs none of them
    assert not [m for m in loaded if m.startswith(("bot.commands.release", "bot.release"))]
    assert "bot.commands.bump" not in loaded


def test_a_plan_without_a_catalog_loads_no_yaml_parser(tmp_path: Path) -> None:
    """Discovery reads the Dockerfiles, not YAML: ruamel loads only with a catalog file."""
    golden = Path(__file__).parent / "golden" / "miniconda3-debian.Dockerfile"
    dockerfile = tmp_path / "repo" / "dockerfiles" / "miniconda3" / "Dockerfile"
    dockerfile.parent.mkdir(parents=True)
    shutil.copyfile(golden, dockerfile)
    argv = ["plan", "--root", str(tmp_path / "repo"), "--upstream-url", NOTHING_LISTENS,
            "--cache-dir", str(tmp_path / "cache")]  # fmt: skip
    loaded = loaded_after(argv)  # it reads the pins, then fails to reach upstream
    assert "bot.catalog" in loaded and "bot.http" in loaded
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]  # requests among them
    (dockerfile.parent.parent / "images.yaml").write_text("version: 1\nimages: []\n")
    assert "ruamel.yaml" in loaded_after(argv)  # it can fail: a catalog is YAML


# -- options: checked where they are parsed, a one-line usage error ------------------------


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["plan", "--root", "FILE"], "--root"),
        (["doctor", "--root", "FILE"], "--root"),
        (["init", "--root", "FILE"], "--root"),
        (["bump", "--local", "--max-open", "-1"], "--max-open -1 is negative"),
        (["bump", "--local", "--max-new", "-2"], "--max-new -2 is negative"),
        (["bump", "--repo", "o/r", "--github-api-url", "api.github.com"], "--github-api-url"),
        (["release", "build", "--tag", "x-1", "--staging", "h/s", "--build-arg", "NOEQ"], "KEY"),
        (["release", "build", "--tag", "x-1", "--staging", "not a host"], "staging registry"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_in_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], what: str
) -> None:
    argv = [bad_file(tmp_path) if a == "FILE" else a for a in argv]
    argv += ["--upstream-url", NOTHING_LISTENS] if argv[0] == "plan" else []
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("condabot: error: "), err
    assert what in err
