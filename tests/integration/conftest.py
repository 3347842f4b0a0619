"""Shared fixtures for sluice's integration tests: where the binary under test lives.

The tests run the real `sluice` binary. SLUICE_BIN names it (scripts/test.sh points it at the
sanitizer build); without it, build/sluice under the repository root is used. A missing
binary fails the tests rather than skipping them, so a broken build can never pass as green.
"""
import os
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sluice_bin():
    path = os.environ.get("SLUICE_BIN") or str(REPO_ROOT / "build" / "sluice")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"sluice binary not found at {path}: build it, or set SLUICE_BIN")
    return path


@pytest.fixture
def broker(sluice_bin, tmp_path):
    """A running single-node broker on 127.0.0.1 and a free port; stopped after the test."""
    from brokerutil import Broker

    b = Broker(sluice_bin, tmp_path / "logs").start()
    yield b
    rc = b.stop()
    assert rc in (0, None), f"broker exited with {rc}:\n{b.log_text()[-4000:]}"
