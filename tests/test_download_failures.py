"""The downloader: every failure is one DataError with the manual fix; no user file is deleted,
no partial names/ or temporary folder is left, fetches take turns, and sizes are capped.

Loopback servers (raw bytes, so malformed answers can be sent) and temporary folders only.
"""
from __future__ import annotations

import io
import os
import signal
import socketserver
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from rnn_tutorial.plumbing import download
from rnn_tutorial.plumbing.download import EXPECTED, DataError, download_names, verify_names
from rnn_tutorial.plumbing.paths import DATA_DIR_ENV, DATA_URL_ENV

ARABIC = "data/names/Arabic.txt"


@pytest.fixture
def raw_server():
    """A loopback TCP server answering every request with `answer(wfile)`; yields (set_answer, url, hits)."""
    state = {"answer": lambda w: None, "hits": 0, "arrived": threading.Event()}

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # skip the request head
            state["hits"] += 1
            state["arrived"].set()
            try:
                state["answer"](self.wfile)
            except OSError:
                pass  # the client hung up

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/data.zip"
    server.shutdown()
    server.server_close()


def http(body: bytes, length: str | None = "auto", status: bytes = b"HTTP/1.1 200 OK") -> bytes:
    """A raw HTTP response; `length` "auto" sends the true Content-Length, None sends none."""
    head = status + b"\r\nConnection: close\r\n"
    if length is not None:
        head += b"Content-Length: " + (str(len(body)) if length == "auto" else length).encode() + b"\r\n"
    return head + b"\r\n" + body


def endless(wfile) -> None:
    """A 200 response without a length that never ends (until the client hangs up)."""
    wfile.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while True:
        wfile.write(b"\0" * 65536)


def patched(archive: bytes, member: str, **fields) -> bytes:
    """`archive` with header fields of `member` overwritten in both its local and central headers:
    method (compression), flags, size (uncompressed size)."""
    data = bytearray(archive)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        info = zf.getinfo(member)
    central = data.find(b"PK\x01\x02" + data[info.header_offset + 4:info.header_offset + 6])
    while struct.unpack_from("<I", data, central + 42)[0] != info.header_offset:
        central = data.find(b"PK\x01\x02", central + 4)
    for offset, local in ((central, False), (info.header_offset, True)):
        shift = 0 if local else 2  # the central header has "version made by" in front
        if "flags" in fields:
            struct.pack_into("<H", data, offset + 6 + shift, fields["flags"])
        if "method" in fields:
            struct.pack_into("<H", data, offset + 8 + shift, fields["method"])
        if "size" in fields:
            struct.pack_into("<I", data, offset + 22 + shift, fields["size"])
    return bytes(data)


def with_members(archive: bytes, members: dict[str, bytes], drop: tuple[str, ...] = ()) -> bytes:
    """A copy of `archive` with `members` added or replaced (deflated) and `drop` left out."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in members and info.filename not in drop:
                dst.writestr(info.filename, src.read(info))
        for name, data in members.items():
            dst.writestr(name, data)
    return out.getvalue()


def assert_clean(root: Path) -> None:
    """No names/ and no temporary folder after a failure."""
    assert not (root / "names").exists()
    assert not list(root.glob(".download-*"))


def fails(root: Path, url: str, match: str) -> DataError:
    """download_names must raise one DataError matching `match`, leave nothing behind, and give the manual fix."""
    with pytest.raises(DataError, match=match) as excinfo:
        download_names(root, url=url)
    assert_clean(root)
    message = str(excinfo.value)
    assert DATA_URL_ENV in message and str(root / "data.zip") in message  # the manual route
    assert "\n" not in message
    return excinfo.value


# ---- the response: malformed, endless, too big, not a URL -----------------------------------------

@pytest.mark.parametrize("answer, match", [
    (http(b"PK", length="12abc"), "malformed Content-Length"),
    (http(b"PK", length=str(10**12)), "announces 1000000000000 bytes"),
    (b"HELLO THERE\r\n\r\n", "could not download"),  # not an HTTP status line
    (http(b"", status=b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000), "could not download"),  # header line too long
    (endless, "larger than"),
], ids=["bad-length", "announced-too-big", "bad-status-line", "bad-header-line", "endless"])
def test_bad_responses_are_data_errors(tmp_path, raw_server, monkeypatch, answer, match):
    state, url = raw_server
    monkeypatch.setattr(download, "MAX_DOWNLOAD_BYTES", 2**20)
    state["answer"] = answer if callable(answer) else (lambda w: w.write(answer))
    fails(tmp_path, url, match)


def trickle(headers: bytes, count: int, pause: float):
    """A server answer: a 200 status with `headers`, then `count` single bytes `pause` seconds apart."""
    def answer(wfile):
        wfile.write(b"HTTP/1.1 200 OK\r\n" + headers + b"\r\n\r\n")
        for _ in range(count):
            wfile.write(b"x")
            wfile.flush()
            time.sleep(pause)
    return answer


def test_a_stalled_download_is_abandoned(tmp_path, raw_server, monkeypatch):
    state, url = raw_server

    state["answer"] = trickle(b"Connection: close", count=50, pause=0.05)
    monkeypatch.setattr(download, "DOWNLOAD_SECONDS", 0.5)
    fails(tmp_path, url, "took more than")


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/data.zip", "http://[::1", "javascript:alert(1)", ""])
def test_a_url_that_is_not_a_url(tmp_path, url):
    fails(tmp_path, url or "?", "is not an http")


# ---- the archive: unsupported features, lying sizes, bombs -----------------------------------------

def zip_case(name: str, archive: bytes) -> bytes:
    """The broken archives of the table below, built from the official one."""
    if name == "unknown-compression":
        return patched(archive, ARABIC, method=99)
    if name == "encrypted":
        return patched(archive, ARABIC, flags=1)
    if name == "declared-size-lies":
        return patched(archive, ARABIC, size=EXPECTED["Arabic"].size - 1)
    if name == "bomb":  # 64 MiB of zeros under an official name: refused before a byte is inflated
        return with_members(archive, {ARABIC: bytes(64 * 2**20)})
    if name == "member-missing":
        return with_members(archive, {}, drop=(ARABIC,))
    raise ValueError(name)


@pytest.mark.parametrize("case, match", [
    ("unknown-compression", "zip feature"),
    ("encrypted", "zip feature"),
    ("declared-size-lies", "declares 13189 bytes"),
    ("bomb", "declares 67108864 bytes"),
    ("member-missing", "Arabic.txt missing"),
])
def test_broken_archives_are_data_errors(tmp_path, archive_bytes, case, match):
    source = tmp_path / "source.zip"
    source.write_bytes(zip_case(case, archive_bytes))
    fails(tmp_path / "data", source.as_uri(), match)


def test_the_official_archive_with_other_members_is_accepted(tmp_path, archive_bytes):
    """The official archive also holds an English-French corpus; extra members are never unpacked."""
    bigger = with_members(archive_bytes, {"data/eng-fra.txt": b"go .\tva !\n" * 10000,
                                          "data/names/Klingon.txt": b"Worf\n"})
    (tmp_path / "official.zip").write_bytes(bigger)
    names_dir = download_names(tmp_path / "data", url=(tmp_path / "official.zip").as_uri())
    assert sorted(p.name for p in names_dir.iterdir()) == sorted(f"{lang}.txt" for lang in EXPECTED)


def test_a_broken_zip_placed_by_hand_says_to_delete_it(tmp_path, archive_bytes):
    (tmp_path / "data.zip").write_bytes(archive_bytes[:1000])
    with pytest.raises(DataError, match="placed by hand .* delete it"):
        download_names(tmp_path, url="http://127.0.0.1:9/unused.zip")
    assert (tmp_path / "data.zip").is_file()  # the user's file is not deleted either


# ---- the data folder: misplaced, read-only, unreadable entries, user files --------------------------

def test_a_data_folder_that_is_a_file(tmp_path, archive_bytes):
    (tmp_path / "data").write_text("oops")
    with pytest.raises(DataError, match="is a file"):
        download_names(tmp_path / "data", url="http://127.0.0.1:9/unused.zip")


def test_a_names_entry_that_is_a_file(tmp_path):
    (tmp_path / "names").write_text("oops")
    with pytest.raises(DataError, match="not a folder"):
        download_names(tmp_path, url="http://127.0.0.1:9/unused.zip")
    assert (tmp_path / "names").read_text() == "oops"


def test_a_data_folder_inside_a_file(tmp_path):
    (tmp_path / "file").write_text("oops")
    with pytest.raises(DataError, match="cannot write to the data folder"):
        download_names(tmp_path / "file" / "data", url="http://127.0.0.1:9/unused.zip")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_data_folder(tmp_path):
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(DataError, match="cannot write to the data folder"):
            download_names(tmp_path, url="http://127.0.0.1:9/unused.zip")
    finally:
        tmp_path.chmod(0o755)


def test_a_lock_that_cannot_be_taken_is_a_data_error(tmp_path, monkeypatch):
    """What a read-only folder does for a normal user (tests may run as root, who can write anywhere)."""
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(download, "_locked", refuse)
    with pytest.raises(DataError, match="cannot write to the data folder .*Permission denied"):
        download_names(tmp_path, url="http://127.0.0.1:9/unused.zip")


@pytest.fixture
def fetched(tmp_path, archive_bytes) -> Path:
    """A data folder with a verified names/ and the archive placed by hand (so re-fetches work offline)."""
    (tmp_path / "data.zip").write_bytes(archive_bytes)
    download_names(tmp_path)
    return tmp_path


def test_user_files_in_a_valid_names_folder_are_left_alone(fetched):
    names = fetched / "names"
    (names / "Klingon.txt").write_text("Worf\n")  # a language of the user's own
    (names / "notes.md").write_text("mine")
    (names / "drafts").mkdir()
    (names / "drafts" / "x.txt").write_text("mine too")
    (names / "unreadable.txt").mkdir()  # an entry that cannot be read as a file
    assert verify_names(names) == []  # only the 18 official files are checked
    assert download_names(fetched) == names
    assert (names / "Klingon.txt").read_text() == "Worf\n" and (names / "drafts" / "x.txt").is_file()


@pytest.mark.parametrize("damage", ["missing", "altered", "unreadable"])
def test_an_invalid_names_folder_is_moved_aside_not_deleted(fetched, capsys, damage):
    names = fetched / "names"
    (names / "mine.txt").write_text("my own file")
    korean = names / "Korean.txt"
    if damage == "missing":
        korean.unlink()
    elif damage == "altered":
        korean.write_text("Kim\n" * 94)
    else:
        korean.unlink()
        korean.mkdir()  # reading it fails: an unreadable entry
    download_names(fetched)
    assert verify_names(names) == []
    (aside,) = fetched.glob("names.invalid-*")
    assert (aside / "mine.txt").read_text() == "my own file"  # nothing of the user's is lost
    assert f"moved it to {aside}" in capsys.readouterr().err
    assert not (names / "mine.txt").exists()


# ---- temporary folders, concurrent fetches, signals -------------------------------------------------

def test_stale_temporary_folders_are_removed(fetched):
    stale = fetched / ".download-killed"
    (stale / "names").mkdir(parents=True)
    (stale / "data.zip").write_bytes(b"x" * 1000)
    (stale / download.TEMP_MARK).touch()  # the mark inside every temporary folder a fetch creates
    with download._locked(fetched):  # while a fetch runs, its temporary folder is not stale: left alone
        assert download_names(fetched) == fetched / "names"  # and a reader does not wait for the fetch
        assert stale.exists()
    download_names(fetched)
    assert not stale.exists()


def test_concurrent_fetches_take_turns_and_names_is_never_half_there(tmp_path, archive_bytes, raw_server):
    state, url = raw_server

    def slow(wfile):
        time.sleep(0.3)
        wfile.write(http(archive_bytes))

    state["answer"] = slow
    seen: list[list[str]] = []
    done = threading.Event()

    def reader():
        while not done.is_set():
            if (tmp_path / "names").is_dir():
                seen.append(verify_names(tmp_path / "names"))

    watcher = threading.Thread(target=reader)
    watcher.start()
    errors: list[BaseException] = []

    def fetch():
        try:
            download_names(tmp_path, url=url)
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    fetchers = [threading.Thread(target=fetch) for _ in range(4)]
    for t in fetchers:
        t.start()
    for t in fetchers:
        t.join()
    done.set()
    watcher.join()
    assert errors == []
    assert state["hits"] == 1  # the others waited for the lock, then found the data ready
    assert seen and all(problems == [] for problems in seen)
    assert not list(tmp_path.glob(".download-*"))


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_fetch_stopped_by_sigterm_leaves_no_temporary_folder(tmp_path, raw_server):
    """The command line turns SIGTERM into an exit that runs the clean-ups (Ctrl-C: see test_cli.py)."""
    state, url = raw_server

    def stall(wfile):
        wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
        wfile.flush()
        time.sleep(30)

    state["answer"] = stall
    env = {**os.environ, DATA_DIR_ENV: str(tmp_path), DATA_URL_ENV: url}
    process = subprocess.Popen([sys.executable, "-m", "rnn_tutorial", "fetch"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert state["arrived"].wait(60)
    deadline = time.monotonic() + 10
    while not list(tmp_path.glob(".download-*/data.zip")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the download has started writing its temporary file
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    assert not list(tmp_path.glob(".download-*")) and not (tmp_path / "names").exists()


CAPPED_FETCH = ("import sys\nimport rnn_tutorial.plumbing.download as d\n"
                "d.DOWNLOAD_SECONDS = d.TIMEOUT_SECONDS = float(sys.argv[1])\n"
                "from rnn_tutorial.__main__ import main\nmain(['fetch'])\n")


def capped_fetch(root: Path, url: str, seconds: float) -> tuple[subprocess.CompletedProcess, float]:
    """`python -m rnn_tutorial fetch` into `root` from `url`, as a process, with both time caps set to `seconds`."""
    env = {**os.environ, DATA_DIR_ENV: str(root), DATA_URL_ENV: url}
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", CAPPED_FETCH, str(seconds)], capture_output=True, text=True,
                            env=env, timeout=60)
    return result, time.monotonic() - start


def test_a_server_sending_a_byte_every_half_second_is_cut_off_at_the_cap(tmp_path, raw_server):
    state, url = raw_server

    state["answer"] = trickle(b"Content-Length: 100000\r\nConnection: close", count=200, pause=0.5)
    result, seconds = capped_fetch(tmp_path / "data", url, 2.0)
    assert result.returncode == 1 and "took more than" in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "data" / "names").exists()


def test_a_fetch_waiting_for_another_says_so_and_gives_up_at_the_cap(tmp_path, archive_bytes):
    root = tmp_path / "data"
    root.mkdir()
    (root / "data.zip").write_bytes(archive_bytes)
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a+b')\n"
                               "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(120)\n",
                               str(root / download.LOCK_NAME)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        result, seconds = capped_fetch(root, "file:///nonexistent", 1.0)
    finally:
        holder.kill()
        holder.wait()
    waiting, error = result.stderr.splitlines()
    assert "waiting for another fetch" in waiting and result.returncode == 1 and "another fetch" in error
