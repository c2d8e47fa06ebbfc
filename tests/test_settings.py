"""Settings from the environment and `.env`, the CLI contract, and API base URL routing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import build_application
from bot.channels.telegram_fake import FakeBotAPI
from bot.settings import DEFAULT_API_BASE_URL, DEFAULT_SEND_RATE, Settings, SettingsError

REPO_ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def from_env(**values: str) -> Settings:
    """Settings from exactly these variables (no `.env`, no real environment)."""
    return Settings.from_env(values, env_file=None)


# ---- defaults and parsing ----------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    settings = from_env()
    assert settings.token is None
    assert settings.api_base_url == DEFAULT_API_BASE_URL == "https://api.telegram.org/bot"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"
    assert settings.database == Path("data/hoivien.sqlite3")
    assert settings.admin_ids == frozenset()
    assert settings.timezone == ZoneInfo("Asia/Ho_Chi_Minh")
    assert settings.default_locale == "vi"
    assert settings.send_rate == DEFAULT_SEND_RATE == 25.0
    assert from_env() == Settings()


def test_empty_and_blank_values_mean_default() -> None:
    names = ["TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "BOT_DATABASE", "BOT_ADMIN_IDS",
             "BOT_TIMEZONE", "BOT_DEFAULT_LOCALE", "BOT_SEND_RATE"]
    assert from_env(**dict.fromkeys(names, "")) == Settings()
    assert from_env(**dict.fromkeys(names, "   ")) == Settings()


def test_every_variable_is_parsed() -> None:
    settings = from_env(
        TELEGRAM_BOT_TOKEN=f"  {TOKEN} ",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot/",
        BOT_DATABASE="/var/lib/hoivien/bot.sqlite3",
        BOT_ADMIN_IDS=" 12345, 67890 ,,",
        BOT_TIMEZONE="Europe/Berlin",
        BOT_DEFAULT_LOCALE="EN",
        BOT_SEND_RATE="12.5",
    )
    assert settings.token == TOKEN
    assert settings.api_base_url == "http://127.0.0.1:8081/bot"  # trailing slash dropped
    assert settings.database == Path("/var/lib/hoivien/bot.sqlite3")
    assert settings.admin_ids == frozenset({12345, 67890})
    assert settings.timezone == ZoneInfo("Europe/Berlin")
    assert settings.default_locale == "en"
    assert settings.send_rate == 12.5


@pytest.mark.parametrize("rate", ["0", "1000", "1e2", "0.5"])
def test_send_rate_bounds_accepted(rate: str) -> None:
    assert from_env(BOT_SEND_RATE=rate).send_rate == float(rate)


def test_reads_os_environ_when_no_mapping_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_DEFAULT_LOCALE", "en")
    monkeypatch.setenv("BOT_ADMIN_IDS", "7")
    settings = Settings.from_env(env_file=None)
    assert settings.default_locale == "en"
    assert settings.admin_ids == frozenset({7})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_BOT_TOKEN", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"),
        ("TELEGRAM_BOT_TOKEN", "123456789:short"),
        ("TELEGRAM_BOT_TOKEN", "123456789AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"),
        ("TELEGRAM_API_BASE_URL", "ftp://127.0.0.1/bot"),
        ("TELEGRAM_API_BASE_URL", "127.0.0.1:8081/bot"),
        ("TELEGRAM_API_BASE_URL", "http://x"),
        ("BOT_ADMIN_IDS", "12345,abc"),
        ("BOT_ADMIN_IDS", "-100"),
        ("BOT_ADMIN_IDS", "1.5"),
        ("BOT_TIMEZONE", "Mars/Base"),
        ("BOT_TIMEZONE", "../../etc/passwd"),
        ("BOT_TIMEZONE", "/etc/localtime"),
        ("BOT_TIMEZONE", "asia/ho_chi_minh"),
        ("BOT_DEFAULT_LOCALE", "fr"),
        ("BOT_DEFAULT_LOCALE", "vi_VN"),
        ("BOT_SEND_RATE", "fast"),
        ("BOT_SEND_RATE", "-1"),
        ("BOT_SEND_RATE", "1001"),
        ("BOT_SEND_RATE", "nan"),
        ("BOT_SEND_RATE", "inf"),
    ],
)
def test_invalid_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        from_env(**{variable: value})
    assert caught.value.variable == variable
    assert str(caught.value).startswith(f"{variable}: ")
    assert len(str(caught.value)) > len(variable) + 10  # says what is expected


def test_admin_ids_with_superscript_digit_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as caught:
        from_env(BOT_ADMIN_IDS="1,²")
    assert caught.value.variable == "BOT_ADMIN_IDS"


def test_token_with_non_ascii_digit_is_rejected() -> None:
    with pytest.raises(SettingsError):
        from_env(TELEGRAM_BOT_TOKEN="²:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0")


# ---- .env ---------------------------------------------------------------------------------


def test_env_file_is_read_and_real_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# local settings\n"
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "BOT_DEFAULT_LOCALE=en\n"
        'BOT_ADMIN_IDS="1,2"\n'
        "BOT_SEND_RATE=5\n",
        encoding="utf-8",
    )
    only_file = Settings.from_env({}, env_file=env_file)
    assert only_file.token == TOKEN
    assert only_file.default_locale == "en"
    assert only_file.admin_ids == frozenset({1, 2})
    assert only_file.send_rate == 5.0

    both = Settings.from_env({"BOT_DEFAULT_LOCALE": "vi", "BOT_SEND_RATE": "0"},
                             env_file=env_file)
    assert both.default_locale == "vi"
    assert both.send_rate == 0.0
    assert both.token == TOKEN  # not overridden: still from the file


def test_env_file_invalid_value_is_reported_unless_environment_overrides(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOT_TIMEZONE=Mars/Base\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({}, env_file=env_file)
    assert caught.value.variable == "BOT_TIMEZONE"
    fixed = Settings.from_env({"BOT_TIMEZONE": "UTC"}, env_file=env_file)
    assert fixed.timezone == ZoneInfo("UTC")


def test_default_env_file_is_dot_env_in_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("BOT_DEFAULT_LOCALE=en\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env({}).default_locale == "en"
    assert Settings.from_env({}, env_file=None).default_locale == "vi"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert Settings.from_env({}, env_file=tmp_path / "nope.env") == Settings()


# ---- api_base_file_url --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "file_base"),
    [
        ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
        ("http://127.0.0.1:8081/bot", "http://127.0.0.1:8081/file/bot"),
        ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
        ("https://proxy.example/telegram/bot", "https://proxy.example/telegram/file/bot"),
        ("http://127.0.0.1:8081/bot{token}", "http://127.0.0.1:8081/file/bot{token}"),
    ],
)
def test_api_base_file_url(base: str, file_base: str) -> None:
    assert Settings(api_base_url=base).api_base_file_url == file_base
    assert from_env(TELEGRAM_API_BASE_URL=base).api_base_file_url == file_base


def test_api_base_file_url_without_path_keeps_host() -> None:
    assert Settings(api_base_url="http://127.0.0.1:8081").api_base_file_url == (
        "http://127.0.0.1:8081/file"
    )


# ---- the CLI contract ---------------------------------------------------------------------


def run_cli(
    cwd: Path, *args: str, timeout: float = 15, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` in a clean environment (only PATH and PYTHONPATH, plus `env`)."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd, env={**clean, **env}, input=stdin, capture_output=True, text=True,
        encoding="utf-8", timeout=timeout, check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], variable: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["migrate"], ["run"], ["units", "list"], []])
def test_cli_invalid_setting_exits_2_with_one_line(tmp_path: Path, command: list[str]) -> None:
    result = run_cli(tmp_path, *command, BOT_TIMEZONE="Mars/Base")
    assert_one_line_error(result, "BOT_TIMEZONE")
    assert not (tmp_path / "data").exists()  # nothing was created


def test_cli_invalid_setting_from_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_SEND_RATE=lots\n", encoding="utf-8")
    assert_one_line_error(run_cli(tmp_path, "migrate"), "BOT_SEND_RATE")
    fixed = run_cli(tmp_path, "migrate", BOT_SEND_RATE="3",
                    BOT_DATABASE=str(tmp_path / "db.sqlite3"))
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "db.sqlite3").exists()


def test_cli_run_without_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run")
    assert_one_line_error(result, "TELEGRAM_BOT_TOKEN")
    assert "demo" in result.stderr  # points to the offline alternative


def test_cli_bad_log_level_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--log-level", "LOUD", "migrate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ([], "demo"),
        (["run"], "usage: python -m bot run"),
        (["demo"], "--database"),
        (["migrate"], "usage: python -m bot migrate"),
        (["units", "import"], "file"),
        (["units", "list"], "usage: python -m bot units list"),
        (["roles", "grant"], "{chapter_head,unit_admin,request_handler}"),
        (["roles", "revoke"], "unit_code"),
    ],
)
def test_cli_help(tmp_path: Path, command: list[str], expected: str) -> None:
    # An invalid setting must not stop --help.
    result = run_cli(tmp_path, *command, "--help", BOT_TIMEZONE="Mars/Base")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m bot")
    assert expected in result.stdout
    assert result.stderr == ""
    assert not (tmp_path / "data").exists()


def test_cli_unknown_command_is_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


# ---- TELEGRAM_API_BASE_URL routes every Bot API call ----------------------------------------


class RecordingAPI(FakeBotAPI):
    """The fake Bot API, also recording the URL of every request PTB makes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        self.urls.append(url)
        return await super().do_request(url, method, *args, **kwargs)


async def test_api_base_url_routes_every_call(tmp_path: Path) -> None:
    settings = from_env(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/bot",
        BOT_DATABASE=str(tmp_path / "bot.sqlite3"),
        BOT_ADMIN_IDS="4242",
    )
    api = RecordingAPI()
    admin = api.user(4242, first_name="Mai")  # known chat, so the admin menu call succeeds
    hoa = api.user(1001, first_name="Hoa")
    application = build_application(settings, request=api)
    assert application.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert application.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"
    await application.initialize()
    try:
        await application.post_init(application)  # type: ignore[misc]
        await application.process_update(api.to_update(api.command_update(hoa, "/start"),
                                                        application.bot))
        await application.process_update(api.to_update(api.command_update(admin, "/start"),
                                                        application.bot))
        await application.bot.get_updates(timeout=0)
    finally:
        await application.shutdown()
        await application.post_shutdown(application)  # type: ignore[misc]

    methods = {call.method for call in api.calls}
    assert {"getMe", "setMyCommands", "sendMessage", "getUpdates"} <= methods
    assert len(api.urls) == len(api.calls) >= 4
    prefix = f"http://127.0.0.1:8081/bot{TOKEN}/"
    assert all(url.startswith(prefix) for url in api.urls), api.urls
    assert all(call.ok for call in api.calls), [c for c in api.calls if not c.ok]
