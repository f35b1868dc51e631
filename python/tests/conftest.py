"""Shared fixtures: the built CLI (SCALEINV_CLI, set by ctest) run as a subprocess."""
import json
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def cli():
    """cli(*args) -> (exit code, stdout, stderr) of the scaleinv command-line tool."""
    path = os.environ.get("SCALEINV_CLI")
    if not path or not os.path.exists(path):
        pytest.fail("SCALEINV_CLI must name the built scaleinv tool (ctest sets it)")

    def run(*args):
        p = subprocess.run([path, *args], capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    """cli_json(*args) -> the JSON the tool prints; the command must exit 0."""

    def run(*args):
        code, out, err = cli(*args)
        assert code == 0, (args, code, err)
        return json.loads(out)

    return run
