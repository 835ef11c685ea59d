"""The layers ship exactly their listed packages (pip --no-deps): every run-time dependency of what
a layer lists must be listed in it, in the common layer, or be the Lambda runtime's own (boto3…)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

LAYERS = Path(__file__).resolve().parents[2] / "layers"
# What the Lambda Python runtime provides, as a matched set (docs/PERFORMANCE.md).
RUNTIME = {"boto3", "botocore", "jmespath", "s3transfer", "urllib3", "python-dateutil", "six"}


def listed(layer: str) -> dict[str, str]:
    pins = {}
    for line in (LAYERS / layer / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# The Lambda runtime the layers are built for (constants.PYTHON_VERSION, arm64 Linux, CPython).
LAMBDA = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "os_name": "posix",
    "extra": "",
}


def run_time_dependencies(package: str) -> set[str]:
    """What `package` needs on the Lambda runtime (markers evaluated there; no extras)."""
    needed = set()
    for text in metadata.requires(package) or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(LAMBDA):
            needed.add(canonical(requirement.name))
    return needed


@pytest.mark.parametrize("layer", ["common", "web", "auth"])
def test_every_dependency_of_a_layer_is_listed_or_the_runtimes_and_pinned_as_installed(layer: str) -> None:
    pins = listed(layer)
    available = set(pins) | set(listed("common")) | RUNTIME
    for package, version in pins.items():
        assert metadata.version(package) == version, f"{package}: tests run on another version"
        missing = run_time_dependencies(package) - available
        assert not missing, f"{layer}: {package} needs {missing}, which no layer ships"


def test_no_layer_ships_the_sdk_the_runtime_provides() -> None:
    for layer in ("common", "web", "auth"):
        assert not set(listed(layer)) & RUNTIME
