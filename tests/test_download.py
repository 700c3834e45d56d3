"""The downloader: every failure is a clear DataError and never leaves a half-written data/names."""
from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rnn_tutorial.plumbing.download import EXPECTED, DataError, download_names, verify_names


@pytest.fixture
def serve():
    """Start an HTTP server on 127.0.0.1 answering each path from a {path: (status, body, length)} map."""
    routes: dict[str, tuple[int, bytes, int | None]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status, body, length = routes.get(self.path, (404, b"not found", None))
            self.send_response(status)
            self.send_header("Content-Length", str(length if length is not None else len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def add(path: str, body: bytes, status: int = 200, length: int | None = None) -> str:
        routes[path] = (status, body, length)
        return f"http://127.0.0.1:{server.server_port}{path}"

    yield add
    server.shutdown()


def rezip(archive: bytes, replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A copy of `archive` with some members replaced and others added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info)))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def assert_failed_cleanly(root) -> None:
    assert not (root / "names").exists()
    assert not list(root.glob(".download-*"))  # the temporary folder went too


def test_file_url_gives_18_verified_languages(tmp_path, archive_bytes):
    (tmp_path / "mirror.zip").write_bytes(archive_bytes)
    names_dir = download_names(tmp_path / "data", url=(tmp_path / "mirror.zip").as_uri())
    assert sorted(p.stem for p in names_dir.glob("*.txt")) == sorted(EXPECTED)
    assert verify_names(names_dir) == []
    # no temporary files left; the lock file stays (deleting it would let two fetches lock different files)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [".fetch.lock", "names"]


def test_http_download_then_reuse_without_network(tmp_path, archive_bytes, serve):
    download_names(tmp_path, url=serve("/data.zip", archive_bytes))
    # a valid copy on disk is reused: an unreachable URL is never contacted
    assert download_names(tmp_path, url="http://127.0.0.1:9/unreachable.zip") == tmp_path / "names"


def test_http_404_is_a_clear_error(tmp_path, serve):
    with pytest.raises(DataError, match="HTTP 404"):
        download_names(tmp_path, url=serve("/missing.zip", b"nope", status=404))
    assert_failed_cleanly(tmp_path)


def test_truncated_http_download_is_refused(tmp_path, archive_bytes, serve):
    url = serve("/cut.zip", archive_bytes[: len(archive_bytes) // 2], length=len(archive_bytes))
    with pytest.raises(DataError):
        download_names(tmp_path, url=url)
    assert_failed_cleanly(tmp_path)


def test_truncated_file_is_not_a_zip(tmp_path, archive_bytes):
    (tmp_path / "cut.zip").write_bytes(archive_bytes[: len(archive_bytes) // 3])
    with pytest.raises(DataError, match="not a zip"):
        download_names(tmp_path / "data", url=(tmp_path / "cut.zip").as_uri())
    assert_failed_cleanly(tmp_path / "data")


def test_html_page_instead_of_zip(tmp_path, serve):
    with pytest.raises(DataError, match="not a zip"):
        download_names(tmp_path, url=serve("/page", b"<html>captive portal</html>"))
    assert_failed_cleanly(tmp_path)


def test_corrupted_member_is_refused(tmp_path, archive_bytes):
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as zf:
        info = zf.getinfo("data/names/Arabic.txt")
    data = bytearray(archive_bytes)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start:start + 20] = bytes(20)  # zero a stretch of compressed bytes: the CRC no longer matches
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupted"):
        download_names(tmp_path / "data", url=(tmp_path / "bad.zip").as_uri())
    assert_failed_cleanly(tmp_path / "data")


def test_path_traversal_member_is_refused(tmp_path, archive_bytes):
    evil = rezip(archive_bytes, extra={"data/names/../../../evil.txt": b"pwned"})
    (tmp_path / "evil.zip").write_bytes(evil)
    with pytest.raises(DataError, match="escape"):
        download_names(tmp_path / "data", url=(tmp_path / "evil.zip").as_uri())
    assert_failed_cleanly(tmp_path / "data")
    assert not list(tmp_path.rglob("evil.txt"))


def test_altered_file_is_named_in_the_error(tmp_path, archive_bytes):
    with zipfile.ZipFile(io.BytesIO(archive_bytes)) as zf:
        arabic = zf.read("data/names/Arabic.txt")
    tampered = rezip(archive_bytes, replace={"data/names/Arabic.txt": arabic.replace(b"Nader", b"Nadir", 1)})
    (tmp_path / "t.zip").write_bytes(tampered)
    with pytest.raises(DataError, match="Arabic.txt checksum differs"):
        download_names(tmp_path / "data", url=(tmp_path / "t.zip").as_uri())
    assert_failed_cleanly(tmp_path / "data")


def test_no_network_says_where_to_put_the_zip(tmp_path):
    with pytest.raises(DataError) as excinfo:
        download_names(tmp_path, url="http://127.0.0.1:9/data.zip")  # port 9: nothing listens
    assert str(tmp_path / "data.zip") in str(excinfo.value)
    assert "RNN_TUTORIAL_DATA_URL" in str(excinfo.value)
    assert_failed_cleanly(tmp_path)


def test_zip_placed_by_hand_is_used_offline(tmp_path, archive_bytes):
    (tmp_path / "data.zip").write_bytes(archive_bytes)
    names_dir = download_names(tmp_path, url="http://127.0.0.1:9/data.zip")
    assert verify_names(names_dir) == []


def test_damaged_copy_on_disk_is_replaced(tmp_path, archive_bytes):
    (tmp_path / "data.zip").write_bytes(archive_bytes)
    names_dir = download_names(tmp_path)
    (names_dir / "Korean.txt").unlink()
    assert verify_names(names_dir) == ["Korean.txt missing"]
    download_names(tmp_path)
    assert verify_names(names_dir) == []


def test_env_variable_overrides_official_url(tmp_path, archive_bytes, monkeypatch, serve):
    monkeypatch.setenv("RNN_TUTORIAL_DATA_URL", serve("/env.zip", archive_bytes))
    assert verify_names(download_names(tmp_path)) == []


def test_the_downloaders_table_covers_exactly_the_lesson_languages():
    from rnn_tutorial.data import LANGUAGES
    assert tuple(sorted(EXPECTED)) == LANGUAGES  # the label set is the lesson's; the checksums follow it


def test_the_offline_archive_holds_the_archives_names_files(archive_bytes):
    from conftest import zipped_names_on_disk  # the fallback when neither the variable nor a data.zip is there
    on_disk = zipped_names_on_disk()
    if on_disk is None:
        pytest.skip("data/names/ holds no verified copy")
    with zipfile.ZipFile(io.BytesIO(on_disk)) as ours, zipfile.ZipFile(io.BytesIO(archive_bytes)) as theirs:
        for lang in EXPECTED:
            member = f"data/names/{lang}.txt"
            assert ours.read(member) == theirs.read(member), lang
