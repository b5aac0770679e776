"""./scripts/demo's options, read by `manage.py demo_options`: right ones become shell assignments,
wrong ones are named in Chinese and stop the demo with status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from haoping.demo.management.commands.demo_options import demo_options
from haoping.demo.services import DEFAULT_RECORDS

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("argv", "port", "lan", "records"),
    [
        ([], 8000, False, None),
        (["--port", "8001"], 8001, False, None),
        (["--port=9000", "--lan", "--records=300"], 9000, True, 300),
        (["--records", "25"], 8000, False, 25),
    ],
)
def test_right_options_are_read(argv: list[str], port: int, lan: bool, records: int | None) -> None:
    options = demo_options(argv, default_port="8000")
    assert (options.port, options.lan, options.records, options.problems) == (port, lan, records, [])


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "abc"],
        ["--port", "0"],
        ["--port=70000"],
        ["--records", "x"],
        ["--records", "0"],
        ["--records"],
        ["--bogus"],
    ],
)
def test_each_wrong_option_is_a_problem(argv: list[str]) -> None:
    assert len(demo_options(argv, default_port="8000").problems) == 1


def _run(*args: str, port: str = "8000") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORT": port, "DJANGO_SETTINGS_MODULE": "haoping.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", "demo_options", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_the_shell_reads_assignments_and_the_person_reads_chinese() -> None:
    done = _run("--port", "8123", "--records=40", "--lan")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["help=", "port=8123", "lan=1", "records=40"]

    wrong = _run("--records", "abc", "--frobnicate")
    assert wrong.returncode == 2
    assert wrong.stdout == ""
    assert "--records 须为不小于 1 的整数" in wrong.stderr
    assert "未知选项 --frobnicate" in wrong.stderr
    assert not any(word in wrong.stderr for word in ("must", "unknown", "error"))

    bad_port = _run(port="http")
    assert bad_port.returncode == 2 and "--port 须为 1 至 65535 之间的数字" in bad_port.stderr

    shown = _run("--help")
    assert shown.stdout.split() == ["help=1"]
    assert "用法：./scripts/demo" in shown.stderr and str(DEFAULT_RECORDS) in shown.stderr
