"""Builds the common Lambda layer on this machine, without Docker.

pip downloads the Linux arm64 / CPython 3.12 wheels of a layer's requirements.txt into
`<output>/python` (wheels only, so nothing is compiled for the build machine by mistake; without
dependencies, so exactly what the file lists), then the shared package, for the common layer, is
copied next to them. CDK calls `try_bundle` only for stacks
selected for bundling; tests turn bundling off with the `aws:cdk:bundling-stacks` context.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling

LAYER_PLATFORM = "manylinux2014_aarch64"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def pip_command(requirements: Path, target: Path, python_version: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # .pyc files of the build interpreter would be dead weight in the layer
        "--no-deps",  # the file lists the whole set; what the runtime provides (boto3…) stays out
        "--requirement",
        str(requirements),
        "--platform",
        LAYER_PLATFORM,
        "--only-binary=:all:",
        "--python-version",
        python_version,
        "--implementation",
        "cp",
        "--target",
        str(target),
    ]


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """`ILocalBundling` that installs a layer's requirements with pip and adds the shared package."""

    def __init__(self, layer_dir: Path, package: str | None, python_version: str) -> None:
        self.layer_dir = layer_dir
        self.package = package
        self.python_version = python_version

    # The jsii signature is (output_dir, options); the generated API docs show a different one.
    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        target = Path(output_dir) / "python"
        command = pip_command(self.layer_dir / "requirements.txt", target, self.python_version)
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise RuntimeError(f"building the common layer failed:\n{completed.stdout}\n{completed.stderr}")
        if self.package:
            shutil.copytree(self.layer_dir / "python" / self.package, target / self.package, ignore=IGNORED)
        return True
