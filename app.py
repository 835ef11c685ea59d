#!/usr/bin/env python3
"""CDK app entry point: synthesizes the stack offline (no AWS calls, no account lookups)."""

import os

from infrastructure.stack import create_app

# The cdk CLI sets CDK_OUTDIR; `python app.py` (make synth) writes to cdk.out/ like the CLI would.
app, _ = create_app(outdir=None if os.environ.get("CDK_OUTDIR") else "cdk.out")
app.synth()
