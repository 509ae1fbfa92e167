"""`make run` from a fresh clone: it installs, migrates, loads the demo, serves the page; a user
logs in over HTTP; Ctrl-C (SIGINT) stops everything, the embedded PostgreSQL included."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, deadline: float, proc: subprocess.Popen[bytes]) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make run exited early with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer in time")


def test_make_run_from_a_fresh_clone(tmp_path: Path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")  # pragma: no cover
    clone = tmp_path / "totalcap"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_", "VIRTUAL_ENV"))
    }
    env.update({"TOTALCAP_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    env.pop("TOTALCAP_TEST_DATABASE_URL", None)
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        ["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", time.monotonic() + 480, proc)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"http://127.0.0.1:{port}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        form = urllib.parse.urlencode(
            {"username": "taizhou", "password": "TotalCap@2026", "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/accounts/login/",
            data=form,
            headers={"Referer": f"http://127.0.0.1:{port}/"},
        )
        home = opener.open(request).read().decode()
        assert "工作台" in home and "泰州市局" in home
        text = (tmp_path / "run.log").read_text(errors="replace")
        assert f"http://127.0.0.1:{port}/" in text and "taizhou" in text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:  # pragma: no cover
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        log.close()
    output = (tmp_path / "run.log").read_text(errors="replace")
    assert "all processes stopped" in output or proc.returncode in (0, 130, 2), output[-3000:]
    pgdata = clone / "var" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()
    deadline = time.monotonic() + 30  # the last process out stops the server (fast shutdown)
    while (pgdata / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (pgdata / "postmaster.pid").exists(), "the embedded PostgreSQL is still running"
    shutil.rmtree(clone, ignore_errors=True)
