"""`./scripts/demo` as a new user runs it: a fresh var directory, a small city, a real server."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from haoping.demo.lan import lan_address

ROOT = Path(__file__).resolve().parents[3]
MASTER_KEY_WARNING = "未设置 HAOPING_MASTER_KEY"


def _free_port() -> int:
    if os.environ.get("DEMO_SCRIPT_PORT"):
        return int(os.environ["DEMO_SCRIPT_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our own server)
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Demo:
    """The script running in its own process group, its output gathered as it comes."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SITE_URL", "ALLOWED_HOSTS", "PORT"}}
        env["HAOPING_VAR_DIR"] = str(tmp_path)
        self.process = subprocess.Popen(  # noqa: S603
            [str(ROOT / "scripts" / "demo"), "--records", "300", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_until_serving(self, url: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output
            try:
                _get(url)
                return
            except OSError:
                time.sleep(1)
        raise AssertionError(f"the demo did not answer at {url}:\n{self.output}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)


def _rating_links(output: str) -> list[str]:
    return re.findall(r"^\s+(http://\S+/r/[^/\s]+/)$", output, re.MULTILINE)


def test_lan_serves_the_network_address_with_links_to_it(tmp_path: Path) -> None:
    address = lan_address()
    assert address is not None, "this machine has no network address to serve on"
    port = _free_port()
    site = f"http://{address}:{port}"
    demo = Demo(tmp_path, "--lan", "--port", str(port))
    try:
        demo.wait_until_serving(f"{site}/console/login/")
        output = demo.output
        assert f"演示网址：{site}/" in output
        assert "同一局域网的手机" in output
        assert f"演示服务已启动：{site}/" in output
        links = _rating_links(output)
        assert len(links) == 3 and all(link.startswith(f"{site}/r/") for link in links)
        status, page = _get(links[0])
        assert status == 200 and 'name="level"' in page
        (revisit,) = re.findall(r"^\s+(http://\S+/v/\S+/)$", output, re.MULTILINE)
        assert revisit.startswith(f"{site}/v/")
        assert _get(revisit)[0] == 200
        (receipt,) = re.findall(r"^\s+(http://\S+/done/\S+/)$", output, re.MULTILINE)
        assert _get(receipt)[0] == 200
        # The checks ran once for the whole demo: one master-key warning, no SQLite index warning.
        assert output.count(MASTER_KEY_WARNING) == 1
        assert "W040" not in output
    finally:
        demo.stop()


def test_without_lan_it_serves_this_machine_only(tmp_path: Path) -> None:
    port = _free_port()
    demo = Demo(tmp_path, "--port", str(port))
    try:
        demo.wait_until_serving(f"http://127.0.0.1:{port}/console/login/")
        output = demo.output
        assert f"演示网址：http://127.0.0.1:{port}/" in output
        assert "同一局域网的手机" not in output
        assert all(link.startswith(f"http://127.0.0.1:{port}/r/") for link in _rating_links(output))
        address = lan_address()
        if address is not None:
            with pytest.raises(OSError):
                _get(f"http://{address}:{port}/console/login/")
        status, page = _get(f"http://127.0.0.1:{port}/console/login/")
        assert status == 200
        # The server announces itself as the rest of the demo speaks, with the address to open.
        assert f"演示服务已启动：http://127.0.0.1:{port}/（按 Ctrl-C 停止）" in demo.output
        assert "Starting development server" not in demo.output and "Django version" not in demo.output
    finally:
        demo.stop()


def test_a_bad_option_is_refused(tmp_path: Path) -> None:
    for args in (["--port", "eighty"], ["--nonsense"]):
        done = subprocess.run(  # noqa: S603
            [str(ROOT / "scripts" / "demo"), *args], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 2 and "scripts/demo" in done.stderr
