"""One synthesis of the real app (cdk-nag included) shared by every infrastructure test.

Synthesis takes seconds, so it happens once per session (per xdist worker: the tests share one
xdist group). Bundling is skipped, so the layer is never pip-installed here; the cloud assembly is
written to a temporary directory and read back: the template, the validation report (cdk-nag
findings) and the staged assets.
"""

from __future__ import annotations

import pytest

from tests.infrastructure.synthesis import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
