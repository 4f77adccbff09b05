"""Doctor against a Chroma that never finishes an answer reports it and goes on, instead of hanging."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.conftest import BIN, server_env


def trickle(listener: socket.socket, stop: threading.Event) -> None:
    """Answer every connection one header byte at a time, forever: each read succeeds within any
    per-read timeout, so only a deadline on the whole call ends it."""
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            held.append(conn)
        except TimeoutError:
            pass
        for conn in list(held):
            try:
                conn.sendall(b"a")
            except OSError:
                held.remove(conn)
        time.sleep(0.2)
    for conn in held:
        conn.close()


def test_doctor_reports_a_frozen_chroma_instead_of_hanging(tmp_path: Path) -> None:
    stop = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        server = threading.Thread(target=trickle, args=(listener, stop), daemon=True)
        server.start()
        try:
            done = subprocess.run(
                [str(BIN / "studio-mcp"), "doctor"],
                cwd=tmp_path,
                env=server_env(
                    tmp_path / "data",
                    STUDIO_CHROMA_MODE="http",
                    STUDIO_CHROMA_HOST="127.0.0.1",
                    STUDIO_CHROMA_PORT=str(listener.getsockname()[1]),
                    STUDIO_CHROMA_TIMEOUT_S="1",
                ),
                capture_output=True,
                text=True,
                timeout=300,  # a hang fails here: doctor used to wait on Chroma forever
            )
        finally:
            stop.set()
            server.join()
    assert done.returncode == 1, done.stdout + done.stderr
    [chroma] = [line for line in done.stdout.splitlines() if "] chroma:" in line]
    assert chroma.startswith("[FAIL] chroma:") and "did not answer within 1 s" in chroma, chroma
    assert "[ok  ] embedder" in done.stdout  # the checks after it still ran
    assert "Traceback" not in done.stderr
