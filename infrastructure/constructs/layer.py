"""The common layer: pinned runtime dependencies plus the shared `execution_monitor` package."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infrastructure.constants import PYTHON_VERSION
from infrastructure.layer_bundling import LocalPipBundling

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = REPO_ROOT / "layers" / "common"
PACKAGE = "execution_monitor"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", ".pytest_cache"]


class CommonLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, runtime: lambda_.Runtime) -> None:
        super().__init__(scope, construct_id)
        code = lambda_.Code.from_asset(
            str(LAYER_DIR),
            exclude=ASSET_EXCLUDES,
            # SOURCE: the asset hash comes from layers/common itself, so a synth is deterministic
            # and a new layer version is published only when the requirements or the package change.
            asset_hash_type=AssetHashType.SOURCE,
            bundling=BundlingOptions(
                image=DockerImage.from_registry("unused"),  # never pulled: local bundling always succeeds
                # cast: the generated stub declares try_bundle with keyword options; jsii calls
                # (output_dir, options), which is what LocalPipBundling implements.
                local=cast(ILocalBundling, LocalPipBundling(LAYER_DIR, PACKAGE, PYTHON_VERSION)),
            ),
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="execution_monitor package and its runtime dependencies",
        )
