"""Cold start: each function's import cost against a bare Powertools API handler, and each layer's
unpacked size as CDK bundles it (Linux arm64 wheels for the runtime's Python).

Import cost is CPU time (time.process_time) of the import in a fresh interpreter, best of
IMPORT_RUNS: wall time on a shared 2-core machine measures the neighbours. The ratio is against
`import boto3, aws_lambda_powertools; from aws_lambda_powertools.event_handler import
APIGatewayRestResolver` measured the same way, so the figure travels between machines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from infrastructure.constants import PYTHON_VERSION
from infrastructure.layer_bundling import IGNORED, pip_command
from infrastructure.openapi import PLACEHOLDER_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
IMPORT_RUNS = 7
BASELINE = "; ".join(
    [
        "import boto3, aws_lambda_powertools",
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver",
    ]
)
# What the design asks of every API handler, on top of the baseline: pydantic models, and the
# resolver's request/response validation (enable_validation=True builds Powertools' OpenAPI models).
FLOORS = {
    "baseline + a pydantic model": "import pydantic; pydantic.create_model('Probe', name=(str, ...))",
    "baseline + enable_validation=True": "APIGatewayRestResolver(enable_validation=True)",
}
# What the functions validate when imported (from the environment only: no I/O at import).
_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    **PLACEHOLDER_SETTINGS,
}
LAYERS = {"common": "execution_monitor", "web": None, "auth": None}


def _module(function: str) -> str:
    return f"{function}.app" if (ROOT / "functions" / function / "app.py").exists() else f"{function}.handler"


def _import_cpu_ms(statement: str) -> float:
    probe = "\n".join(
        [
            "import time",
            "started = time.process_time()",
            statement,
            "print((time.process_time() - started) * 1000)",
        ]
    )
    env = {**os.environ, **_ENVIRONMENT}
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(IMPORT_RUNS)
    ]
    return min(runs)


def import_rows() -> list[dict[str, Any]]:
    baseline = _import_cpu_ms(BASELINE)
    rows = [{"import": "baseline (boto3 + Powertools resolver)", "CPU ms": round(baseline), "ratio": 1.0}]
    for floor, statement in FLOORS.items():
        spent = _import_cpu_ms(f"{BASELINE}; {statement}")
        rows.append({"import": floor, "CPU ms": round(spent), "ratio": round(spent / baseline, 2)})
    for function in sorted(path.name for path in (ROOT / "functions").iterdir() if path.is_dir()):
        spent = _import_cpu_ms(f"import {_module(function)}")
        rows.append({"import": function, "CPU ms": round(spent), "ratio": round(spent / baseline, 2)})
    return rows


def _size_mb(path: Path) -> float:
    return round(sum(each.stat().st_size for each in path.rglob("*") if each.is_file()) / 1e6, 1)


def layer_rows() -> list[dict[str, Any]]:
    rows = []
    for layer, package in LAYERS.items():
        layer_dir = ROOT / "layers" / layer
        with tempfile.TemporaryDirectory() as output:
            target = Path(output) / "python"
            subprocess.run(
                pip_command(layer_dir / "requirements.txt", target, PYTHON_VERSION),
                check=True,
                capture_output=True,
            )
            if package:
                shutil.copytree(layer_dir / "python" / package, target / package, ignore=IGNORED)
            rows.append({"layer": layer, "unpacked MB": _size_mb(target)})
    return rows
