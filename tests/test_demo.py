"""The offline demo (`python -m bot demo`) driven through its console, as a person would."""

from __future__ import annotations

import io
import json
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.telegram_fake import ApiCall, FakeBotAPI
from bot.demo import DEMO_MEMBERS, PERSONAS, Console, _to_update

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0
PROMPT = re.compile(r"\n(member|head|admin)> $")
BUTTON = re.compile(r"\[(\d+)\] (.*?)(?=\s{3}[\[(]|$)")

# The member persona's phone (bot/demo.py PERSONAS["member"]) and the chapter we pick.
MEMBER_ID = 1001
MEMBER_PHONE = "+84912345678"
FULL_NAME = "Nguyễn Thị Hoa"
# Line by line, as the demo prints it: 1 = agree, the name, c = share contact,
# 4 = Phường Hoàng Liệt, 1 = Chi hội tổ dân phố số 2, 1 = confirm.
SCRIPT = ["/start", "1", FULL_NAME, "c", "4", "1", "1"]


def clean_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO_ROOT)}


def demo_command(database: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "demo", "--database", str(database)]


def member_row(database: Path) -> tuple[object, ...] | None:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT m.full_name, m.phone, u.code, m.status FROM members m"
            " JOIN units u ON u.id = m.unit_id WHERE m.telegram_user_id = ?",
            (MEMBER_ID,),
        ).fetchone()


class DemoConsole:
    """A running demo: type a line, read what it printed up to the next prompt."""

    def __init__(self, folder: Path) -> None:
        self.database = folder / "demo.sqlite3"
        self.stderr_path = folder / "demo.stderr"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            demo_command(self.database), cwd=folder, env=clean_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
        )
        self.transcript = ""
        self.buttons: dict[int, str] = {}

    def read(self) -> str:
        """Output up to the next prompt (or end of output)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks = b""
        deadline = time.monotonic() + TIMEOUT
        while not PROMPT.search(chunks.decode("utf-8", errors="ignore")):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no prompt within {TIMEOUT}s; got:\n{chunks.decode()}"
            ready, _w, _x = select.select([fd], [], [], remaining)
            if not ready:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            chunks += data
        text = chunks.decode("utf-8")
        self.transcript += text
        self._remember_buttons(text)
        return text

    def _remember_buttons(self, text: str) -> None:
        """Inline buttons of the newest message that has any (the demo renumbers per message)."""
        for message in reversed(re.split(r"\nbot(?: \(edited\))?: ", text)):
            found = {
                int(number): label.strip()
                for line in message.splitlines() if line.startswith("     [")
                for number, label in BUTTON.findall(line.strip())
            }
            if found:
                self.buttons = found
                return

    def type(self, line: str) -> str:
        assert self.proc.stdin is not None
        self.transcript += line + "\n"
        self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.flush()
        return self.read()

    def press(self, label: str) -> str:
        """Type the number of the button whose label contains `label`."""
        matches = [n for n, text in sorted(self.buttons.items()) if label in text]
        assert matches, f"no button {label!r} in {self.buttons}\n{self.transcript}"
        return self.type(str(matches[0]))

    def finish(self, line: str | None = ":quit") -> tuple[int, str, str]:
        """Quit (or close stdin when `line` is None); (exit code, rest of output, stderr)."""
        assert self.proc.stdin is not None
        if line is not None:
            self.proc.stdin.write((line + "\n").encode("utf-8"))
        self.proc.stdin.close()
        rest = self.proc.stdout.read().decode("utf-8") if self.proc.stdout else ""
        self.transcript += rest
        code = self.proc.wait(timeout=TIMEOUT)
        self._stderr.close()
        return code, rest, self.stderr_path.read_text("utf-8")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self._stderr.closed:
            self._stderr.close()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[DemoConsole]:
    demo = DemoConsole(tmp_path)
    try:
        yield demo
    finally:
        demo.kill()


def test_register_through_the_console(console: DemoConsole) -> None:
    intro = console.read()
    assert "You are: member. Type /start to begin." in intro
    assert "c shares the persona's phone number" in intro
    assert "`" not in intro  # plain text, no Markdown
    assert "demo.sqlite3 (delete this file to start afresh)" in intro

    consent = console.type("/start")
    assert "[1] " in consent and "[2] " in consent  # agree / do not agree
    assert "[1] 1." not in consent  # the button's own number is the one typed, shown once
    console.type("1")  # agree
    asked_phone = console.type(FULL_NAME)
    assert "[c]" in asked_phone  # the share-contact keyboard button
    wards = console.type("c")
    assert "0912 345 678" in wards  # the phone, read back in national format
    chapters = console.press("Hoàng Liệt")
    assert "Chi hội TDP số 7" in chapters
    summary = console.press("số 2")
    assert FULL_NAME in summary and "Chi hội tổ dân phố số 2" in summary
    done = console.type("1")  # confirm
    assert "🎉" in done and FULL_NAME in done
    assert "[m1]" in done  # the main menu replaces the contact keyboard

    profile = console.type("m1")  # "My profile"
    assert FULL_NAME in profile and "0912 345 678" in profile

    switched = console.type(":head")
    assert "You are now: head." in switched
    head_start = console.type("/start")
    assert "chị Lan" in head_start  # the seeded chapter head is recognised by her given name

    code, rest, stderr = console.finish(":quit")
    assert code == 0, stderr
    assert "Bye." in rest
    assert "Traceback" not in stderr
    assert member_row(console.database) == (FULL_NAME, MEMBER_PHONE, "HM-HL-02", "active")


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                                Path]:
    """The fixed script on stdin with no `:quit`: the demo must stop at end of input."""
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.sqlite3"
    result = subprocess.run(
        demo_command(database), cwd=folder, env=clean_env(), input="\n".join(SCRIPT) + "\n",
        capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )
    return result, database


def test_scripted_registration_ends_at_end_of_input(
    scripted: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, database = scripted
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "🎉" in result.stdout and FULL_NAME in result.stdout
    assert result.stdout.rstrip().endswith("Bye.")
    assert member_row(database) == (FULL_NAME, MEMBER_PHONE, "HM-HL-02", "active")


def test_restart_keeps_the_database_and_recognises_the_member(
    scripted: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _result, database = scripted
    again = subprocess.run(
        demo_command(database), cwd=database.parent, env=clean_env(), input="/start\n",
        capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert "chị Hoa" in again.stdout  # welcomed back by her given name, not asked to register again
    assert "[c]" not in again.stdout
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM units").fetchone()[0] > 0
        seeded = 1 + len(DEMO_MEMBERS)  # the head and her chapter's members
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == seeded + 1  # + Hoa


def test_empty_input_exits_cleanly(tmp_path: Path) -> None:
    result = subprocess.run(
        demo_command(tmp_path / "demo.sqlite3"), cwd=tmp_path, env=clean_env(), input="",
        capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Bye." in result.stdout


def test_demo_start_logs_no_warning(
    scripted: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, _database = scripted
    assert "WARNING" not in result.stderr, result.stderr


def test_files_popups_and_inboxes_are_shown(console: DemoConsole) -> None:
    intro = console.read()
    files = console.database.parent / "demo-files"  # beside the database: data/demo-files
    assert f"Pictures and files: {files}/" in intro
    for line in SCRIPT:
        console.type(line)
    mydata = console.type("/mydata")
    [saved] = re.findall(r"\[file saved: (\S+)\]", mydata)
    path = Path(saved)
    assert path.parent == files and path.suffix == ".json"
    assert FULL_NAME in json.dumps(json.loads(path.read_text("utf-8")), ensure_ascii=False)

    # The head sends a notice: each delivery is printed as it goes, Hoa's waits in her inbox.
    console.type(":head")
    console.type("/broadcast")
    console.type("1")  # every member of her chapter
    console.type("Họp chi hội tối thứ Sáu lúc 19:30.")
    sent = console.press("📤")
    assert sent.count("✉ → ") == len(DEMO_MEMBERS)
    assert "✉ a message for member" in sent
    inbox = console.type(":member")
    assert "1 message(s) came while you were away" in inbox
    assert "Họp chi hội tối thứ Sáu lúc 19:30." in inbox
    again = console.type(":member")
    assert "came while you were away" not in again  # an inbox is shown once

    # A pop-up (a callback answer with a text) is printed: cancelling a scheduled notice.
    console.type(":head")
    console.type("/broadcast")
    console.type("1")
    console.type("Tổng vệ sinh sáng Chủ nhật.")
    console.press("🕒")
    console.type("31/12 7:00")
    listed = console.type("/broadcasts")
    assert "#2" in listed
    answer = console.press("#2")
    if "(!)" not in answer:  # a confirmation step first
        answer = console.press("Có,")
    assert re.search(r"\(!\) .*#2", answer), answer
    code, _rest, stderr = console.finish()
    assert code == 0 and "Traceback" not in stderr, stderr


def test_each_persona_keeps_her_own_buttons(console: DemoConsole) -> None:
    console.read()
    consent = console.type("/start")  # the member's consent buttons
    assert "[1] " in consent
    console.type(":head")
    scopes = console.type("/broadcast")  # the head's: whom to send to
    assert "[1] " in scopes
    console.type(":member")
    asked = console.type("1")  # presses the member's "agree", not the head's first scope
    assert "Nguyễn Thị Hoa" in asked  # the name prompt's example
    console.type(":head")
    compose = console.type("1")  # and now the head's first scope
    assert "Chi hội tổ dân phố số 2" in compose
    code, _rest, stderr = console.finish()
    assert code == 0, stderr


def test_console_numbers_are_the_numbers_on_the_buttons(tmp_path: Path) -> None:
    """A paged list whose items carry their numbers, paging buttons and a numbered sort
    button: typing the number shown on a button presses that button."""
    api, out = FakeBotAPI(), io.StringIO()
    console = Console(api, out, files=tmp_path)
    persona = PERSONAS["member"]
    rows = [[{"text": f"{n}. Chi hội số {n}", "callback_data": f"pick:{n}"}]
            for n in range(11, 21)]
    rows.append([{"text": "◀", "callback_data": "page:0"}, {"text": "2/2", "callback_data": "x"},
                 {"text": "▶", "callback_data": "page:2"}])
    rows.append([{"text": "25. ↕ Sắp xếp", "callback_data": "sort"}])
    call = ApiCall(method="sendMessage", ok=True, result={"message_id": 7},
                   params={"chat_id": persona.user_id, "text": "Chọn chi hội",
                           "reply_markup": {"inline_keyboard": rows}})
    console.on_call(call)
    printed = out.getvalue()
    assert "[11] Chi hội số 11" in printed and "[20] Chi hội số 20" in printed
    assert "[25] ↕ Sắp xếp" in printed and "(2/2)" in printed
    assert "[1] ◀" in printed and "[2] ▶" in printed  # free numbers, not 11-20 or 25
    api.user(persona.user_id, first_name=persona.first_name)
    for typed, data in (("25", "sort"), ("15", "pick:15"), ("2", "page:2")):
        update = _to_update(api, console, typed)
        assert update["callback_query"]["data"] == data
