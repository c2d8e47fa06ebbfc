"""Settings read from environment variables (and a `.env` file in the working folder)."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

SUPPORTED_LOCALES = ("vi", "en")
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_SEND_RATE = 25.0
DEFAULT_REMINDER_GRACE_HOURS = 3.0
DEFAULT_ORG_NAME = "Hội Liên hiệp Phụ nữ"  # neutral: an installation names its own union
DEFAULT_RETAIN_DELIVERIES_DAYS = 180
DEFAULT_RETAIN_LEFT_MEMBERS_YEARS = 5
DEFAULT_DISCLOSURE_K = 5
DEFAULT_ZALO_API_BASE_URL = "https://bot-api.zaloplatforms.com/bot"
DEFAULT_ZALO_SEND_RATE = 5.0  # Zalo publishes no limit: conservative
DEFAULT_ZALO_FILE_LINK_MINUTES = 60
DEFAULT_CONCURRENCY = 16
DEFAULT_SUPPORT_ACK_HOURS = 24.0
DEFAULT_EMERGENCY_NUMBERS = "113 Công an · 115 Cấp cứu · 111 Tổng đài bảo vệ trẻ em"
DEFAULT_FIGURES_DEADLINE_DAY = 20
DEFAULT_TERM_START_YEAR = 2021
HTTP_CLIENTS = ("aiohttp", "httpx")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable and what is expected."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: {expected}")
        self.variable = variable


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the bot can be configured with. See the README's settings table."""

    token: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    database: Path = Path("data/hoivien.sqlite3")
    admin_ids: frozenset[int] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))
    default_locale: str = "vi"
    send_rate: float = DEFAULT_SEND_RATE
    catalog: Path | None = None  # None: the catalog shipped in bot/data/catalog.toml
    webhook_url: str | None = None  # `run --webhook`: the public HTTPS URL Telegram calls
    webhook_secret: str | None = None  # checked in X-Telegram-Bot-Api-Secret-Token
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    reminder_grace_hours: float = DEFAULT_REMINDER_GRACE_HOURS
    # The controller named in the privacy notice (/privacy) and how to reach a person there.
    org_name: str = DEFAULT_ORG_NAME
    org_contact: str | None = None  # None: the notice says "ask your chapter head"
    retain_deliveries_days: int = DEFAULT_RETAIN_DELIVERIES_DAYS
    retain_left_members_years: int = DEFAULT_RETAIN_LEFT_MEMBERS_YEARS
    disclosure_k: int = DEFAULT_DISCLOSURE_K  # bot/disclosure.py: the smallest group shown
    # Zalo Bot Platform (bot/channels/zalo): served when the token is set.
    zalo_token: str | None = None
    zalo_api_base_url: str = DEFAULT_ZALO_API_BASE_URL
    zalo_admin_ids: frozenset[str] = frozenset()  # Zalo user ids (strings) of super-admins
    zalo_send_rate: float = DEFAULT_ZALO_SEND_RATE
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = None
    zalo_webhook_port: int = 8444  # on BOT_WEBHOOK_LISTEN, beside Telegram's BOT_WEBHOOK_PORT
    # How long a chart's or an export's download link sent on Zalo works (webhook mode).
    zalo_file_link_minutes: int = DEFAULT_ZALO_FILE_LINK_MINUTES
    concurrency: int = DEFAULT_CONCURRENCY  # updates of different people processed at once
    http_client: str = HTTP_CLIENTS[0]  # the client that talks to the Bot API
    # Requests for help (/support): escalated to the ward's admins when not acknowledged in time;
    # the emergency numbers shown with every safety note.
    support_ack_hours: float = DEFAULT_SUPPORT_ACK_HOURS
    emergency_numbers: str = DEFAULT_EMERGENCY_NUMBERS
    # Unit indicators (/figures, /baocao): their catalog, the monthly deadline, the term.
    indicators: Path | None = None  # None: the catalog shipped in bot/data/indicators.toml
    figures_deadline_day: int = DEFAULT_FIGURES_DEADLINE_DAY
    term_start_year: int = DEFAULT_TERM_START_YEAR

    @property
    def api_base_file_url(self) -> str:
        """The file download URL that belongs to `api_base_url` (``…/bot`` → ``…/file/bot``)."""
        parts = urlsplit(self.api_base_url.rstrip("/"))
        head, _, tail = parts.path.rpartition("/")
        path = f"{head}/file/{tail}" if tail else "/file"
        return urlunsplit(parts._replace(path=path))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read settings; the real environment wins over the `.env` file."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        return cls(
            token=_token(get("TELEGRAM_BOT_TOKEN")),
            api_base_url=_url(get("TELEGRAM_API_BASE_URL")),
            database=Path(get("BOT_DATABASE") or "data/hoivien.sqlite3"),
            admin_ids=_admin_ids(get("BOT_ADMIN_IDS")),
            timezone=_timezone(get("BOT_TIMEZONE")),
            default_locale=_locale(get("BOT_DEFAULT_LOCALE")),
            send_rate=_number("BOT_SEND_RATE", get("BOT_SEND_RATE"), DEFAULT_SEND_RATE, 0, 1000,
                              "messages per second as a number, e.g. 25 (0 turns pacing off)"),
            catalog=_catalog(get("BOT_CATALOG")),
            webhook_url=_webhook_url(get("BOT_WEBHOOK_URL")),
            webhook_secret=_webhook_secret(get("BOT_WEBHOOK_SECRET")),
            webhook_listen=_listen(get("BOT_WEBHOOK_LISTEN")),
            webhook_port=_integer("BOT_WEBHOOK_PORT", get("BOT_WEBHOOK_PORT"), 8443, 1, 65535,
                                  "a TCP port number from 1 to 65535, e.g. 8443"),
            reminder_grace_hours=_number(
                "BOT_REMINDER_GRACE_HOURS", get("BOT_REMINDER_GRACE_HOURS"),
                DEFAULT_REMINDER_GRACE_HOURS, 0, 24,
                "hours from 0 to 24 (e.g. 3): how late a missed reminder may still be sent"),
            org_name=_org_text("BOT_ORG_NAME", get("BOT_ORG_NAME"), 200) or DEFAULT_ORG_NAME,
            org_contact=_org_text("BOT_ORG_CONTACT", get("BOT_ORG_CONTACT"), 300),
            retain_deliveries_days=_whole(
                "BOT_RETAIN_DELIVERIES_DAYS", get("BOT_RETAIN_DELIVERIES_DAYS"),
                DEFAULT_RETAIN_DELIVERIES_DAYS, upper=3650, unit="days"),
            retain_left_members_years=_whole(
                "BOT_RETAIN_LEFT_MEMBERS_YEARS", get("BOT_RETAIN_LEFT_MEMBERS_YEARS"),
                DEFAULT_RETAIN_LEFT_MEMBERS_YEARS, upper=50, unit="years"),
            disclosure_k=_integer(
                "BOT_DISCLOSURE_K", get("BOT_DISCLOSURE_K"), DEFAULT_DISCLOSURE_K, 3, 100,
                "a whole number from 3 to 100 (e.g. 5): the fewest households a sensitive figure "
                "may describe"),
            zalo_token=_zalo_token(get("ZALO_BOT_TOKEN")),
            zalo_api_base_url=_zalo_url(get("ZALO_API_BASE_URL")),
            zalo_admin_ids=_zalo_admin_ids(get("ZALO_ADMIN_IDS")),
            zalo_send_rate=_number("ZALO_SEND_RATE", get("ZALO_SEND_RATE"), DEFAULT_ZALO_SEND_RATE,
                                   0, 100,
                                   "messages per second as a number, e.g. 5 (0 turns pacing off)"),
            zalo_webhook_url=_zalo_webhook_url(get("ZALO_WEBHOOK_URL")),
            zalo_webhook_secret=_zalo_webhook_secret(get("ZALO_WEBHOOK_SECRET")),
            zalo_webhook_port=_integer(
                "ZALO_WEBHOOK_PORT", get("ZALO_WEBHOOK_PORT"), 8444, 1, 65535,
                "a TCP port number from 1 to 65535, e.g. 8444"),
            zalo_file_link_minutes=_whole(
                "ZALO_FILE_LINK_MINUTES", get("ZALO_FILE_LINK_MINUTES"),
                DEFAULT_ZALO_FILE_LINK_MINUTES, upper=1440, unit="minutes"),
            concurrency=_integer(
                "BOT_CONCURRENCY", get("BOT_CONCURRENCY"), DEFAULT_CONCURRENCY, 1, 256,
                "how many updates of different people run at once, 1 to 256 (e.g. 16)"),
            http_client=_http_client(get("BOT_HTTP_CLIENT")),
            support_ack_hours=_number(
                "BOT_SUPPORT_ACK_HOURS", get("BOT_SUPPORT_ACK_HOURS"), DEFAULT_SUPPORT_ACK_HOURS,
                1, 720, "hours from 1 to 720 (e.g. 24): how long a request for help may wait for "
                "an acknowledgement before the ward's admins are told"),
            emergency_numbers=_org_text("BOT_EMERGENCY_NUMBERS", get("BOT_EMERGENCY_NUMBERS"),
                                        300) or DEFAULT_EMERGENCY_NUMBERS,
            indicators=_indicators(get("BOT_INDICATORS")),
            figures_deadline_day=_whole(
                "BOT_FIGURES_DEADLINE_DAY", get("BOT_FIGURES_DEADLINE_DAY"),
                DEFAULT_FIGURES_DEADLINE_DAY, upper=28, unit="days (a day of the month)"),
            term_start_year=_integer(  # the first year of a congress term (terms are five years)
                "BOT_TERM_START_YEAR", get("BOT_TERM_START_YEAR"), DEFAULT_TERM_START_YEAR,
                2000, 2100, "a year from 2000 to 2100, e.g. 2021"),
        )


def _token(value: str | None) -> str | None:
    if value is None:
        return None
    bot_id, sep, secret = value.partition(":")
    if not (sep and bot_id.isascii() and bot_id.isdigit() and len(secret) >= 30):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN", "a token from @BotFather, like 123456789:AAH…(35 characters)"
        )
    return value


def _url(value: str | None) -> str:
    if value is None:
        return DEFAULT_API_BASE_URL
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise SettingsError(
            "TELEGRAM_API_BASE_URL", "an http(s) URL such as http://127.0.0.1:8081/bot"
        )
    return value.rstrip("/")


def _admin_ids(value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise SettingsError(
            "BOT_ADMIN_IDS", "comma-separated numeric Telegram user ids, e.g. 12345,67890"
        )
    return frozenset(int(p) for p in parts)


def _timezone(value: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(value or "Asia/Ho_Chi_Minh")
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            "BOT_TIMEZONE", "an IANA time zone name such as Asia/Ho_Chi_Minh"
        ) from None


def _locale(value: str | None) -> str:
    value = (value or "vi").lower()
    if value not in SUPPORTED_LOCALES:
        raise SettingsError("BOT_DEFAULT_LOCALE", "one of " + ", ".join(SUPPORTED_LOCALES))
    return value


def _catalog(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise SettingsError(
            "BOT_CATALOG", f"the path of a catalog file (TOML); {value} is not a file"
        )
    return path


def _http_client(value: str | None) -> str:
    value = (value or HTTP_CLIENTS[0]).lower()
    if value not in HTTP_CLIENTS:
        raise SettingsError("BOT_HTTP_CLIENT", "one of " + ", ".join(HTTP_CLIENTS))
    return value


def _webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or " " in value:
        raise SettingsError(
            "BOT_WEBHOOK_URL", "the public https:// URL Telegram sends updates to, e.g. "
            "https://bot.example.org/telegram"
        )
    return value


_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # at least 16: not guessable by trying


def _webhook_secret(value: str | None) -> str | None:
    if value is None:
        return None
    if not _SECRET.fullmatch(value):
        raise SettingsError(
            "BOT_WEBHOOK_SECRET", "16-256 characters, only A-Z a-z 0-9 _ - (e.g. from "
            "`openssl rand -hex 32`)"
        )
    return value


def _listen(value: str | None) -> str:
    if value is None:
        return "127.0.0.1"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise SettingsError(
            "BOT_WEBHOOK_LISTEN", "the IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None
    return value


def _org_text(variable: str, value: str | None, limit: int) -> str | None:
    """A name or contact shown in the privacy notice: one line of plain text."""
    if value is None:
        return None
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise SettingsError(variable, f"one line of text, at most {limit} characters")
    return value


def _indicators(value: str | None) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise SettingsError(
            "BOT_INDICATORS", f"the path of an indicator catalog (TOML); {value} is not a file")
    return path


def _whole(variable: str, value: str | None, default: int, *, upper: int, unit: str) -> int:
    """A period (retention, a link's life): a whole number from 1 to `upper`."""
    return _integer(variable, value, default, 1, upper,
                    f"a whole number of {unit} from 1 to {upper}, e.g. {default}")


def _integer(variable: str, value: str | None, default: int, low: int, high: int,
             meaning: str) -> int:
    """A whole number from `low` to `high`; `meaning` tells the operator what is wanted."""
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise SettingsError(variable, meaning)
    return int(value)


def _number(variable: str, value: str | None, default: float, low: float, high: float,
            meaning: str) -> float:
    """A number from `low` to `high` ("2,5" as well as "2.5")."""
    if value is None:
        return default
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        number = math.nan
    if not low <= number <= high:  # also refuses nan
        raise SettingsError(variable, meaning)
    return number


def _zalo_token(value: str | None) -> str | None:
    if value is None:
        return None
    bot_id, sep, secret = value.partition(":")
    if not (sep and bot_id.isascii() and bot_id.isalnum() and len(secret) >= 8
            and value.isascii() and " " not in value):
        raise SettingsError("ZALO_BOT_TOKEN", "the token Zalo Bot Creator sent, like 12345:abc…")
    return value


def _zalo_url(value: str | None) -> str:
    if value is None:
        return DEFAULT_ZALO_API_BASE_URL
    if not value.startswith(("http://", "https://")) or len(value) < 10:
        raise SettingsError(
            "ZALO_API_BASE_URL", "an http(s) URL such as https://bot-api.zaloplatforms.com/bot")
    return value.rstrip("/")


_ZALO_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _zalo_admin_ids(value: str | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(_ZALO_ID.fullmatch(p) for p in parts):
        raise SettingsError(
            "ZALO_ADMIN_IDS", "comma-separated Zalo user ids, e.g. 6ede9afa66b88fe6d6a9")
    return frozenset(parts)


def _zalo_webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or " " in value:
        raise SettingsError(
            "ZALO_WEBHOOK_URL", "the public https:// URL Zalo sends events to, e.g. "
            "https://bot.example.org/zalo")
    return value


_ZALO_SECRET = re.compile(r"[A-Za-z0-9_-]{8,256}")


def _zalo_webhook_secret(value: str | None) -> str | None:
    if value is None:
        return None
    if not _ZALO_SECRET.fullmatch(value):
        raise SettingsError(
            "ZALO_WEBHOOK_SECRET", "8-256 characters, only A-Z a-z 0-9 _ - (e.g. from "
            "`openssl rand -hex 32`)")
    return value
