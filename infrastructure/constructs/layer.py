"""Lambda layers: pinned run-time dependencies (and, for the common one, the shared package).

Three layers, so no function carries what it does not use: `common` (execution_monitor,
Powertools, pydantic, the X-Ray SDK) for every function, `web` (Starlette, uvicorn) for the SSE
function, `auth` (PyJWT, cryptography) for the authorizer. boto3 and botocore are the runtime's.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infrastructure.constants import PYTHON_VERSION
from infrastructure.layer_bundling import LocalPipBundling

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYERS_DIR = REPO_ROOT / "layers"
LAYER_DIR = LAYERS_DIR / "common"
PACKAGE = "execution_monitor"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", ".pytest_cache"]


class DependencyLayer(Construct):
    """A layer built from `layers/<name>/requirements.txt` (plus `package` when given)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        runtime: lambda_.Runtime,
        package: str | None = None,
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        layer_dir = LAYERS_DIR / name
        code = lambda_.Code.from_asset(
            str(layer_dir),
            exclude=ASSET_EXCLUDES,
            # SOURCE: the asset hash comes from the layer's folder itself, so a synth is deterministic
            # and a new layer version is published only when the requirements or the package change.
            asset_hash_type=AssetHashType.SOURCE,
            bundling=BundlingOptions(
                image=DockerImage.from_registry("unused"),  # never pulled: local bundling always succeeds
                # cast: the generated stub declares try_bundle with keyword options; jsii calls
                # (output_dir, options), which is what LocalPipBundling implements.
                local=cast(ILocalBundling, LocalPipBundling(layer_dir, package, PYTHON_VERSION)),
            ),
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description=description,
        )
