"""The common layer's local (Docker-free) bundling, without running pip."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import BundlingOptions, DockerImage

from infrastructure import layer_bundling
from infrastructure.constants import PYTHON_VERSION
from infrastructure.constructs.layer import LAYER_DIR, PACKAGE
from infrastructure.layer_bundling import LocalPipBundling

pytestmark = pytest.mark.xdist_group("cdk")

OPTIONS = BundlingOptions(image=DockerImage.from_registry("unused"))


def _fake_pip(returncode: int, calls: list[list[str]]) -> Any:
    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, returncode, stdout="", stderr="no matching distribution")

    return run


def test_bundling_installs_linux_arm64_wheels_for_the_runtime_and_adds_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(layer_bundling.subprocess, "run", _fake_pip(0, calls))

    assert LocalPipBundling(LAYER_DIR, PACKAGE, PYTHON_VERSION).try_bundle(str(tmp_path), OPTIONS) is True

    [command] = calls
    assert command[1:4] == ["-m", "pip", "install"]
    flags = " ".join(command)
    assert f"--requirement {LAYER_DIR / 'requirements.txt'}" in flags
    assert "--platform manylinux2014_aarch64" in flags
    assert "--only-binary=:all:" in flags
    assert f"--python-version {PYTHON_VERSION}" in flags
    assert "--implementation cp" in flags
    assert f"--target {tmp_path / 'python'}" in flags
    copied = tmp_path / "python" / PACKAGE
    assert (copied / "settings.py").is_file()
    assert not list(copied.rglob("__pycache__"))


def test_a_failed_pip_install_fails_the_synth_with_pips_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layer_bundling.subprocess, "run", _fake_pip(1, []))

    with pytest.raises(RuntimeError, match="no matching distribution"):
        LocalPipBundling(LAYER_DIR, PACKAGE, PYTHON_VERSION).try_bundle(str(tmp_path), OPTIONS)
