#!/bin/bash
# The Lambda handler of the SSE function. With AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap the Lambda Web
# Adapter runs this script and proxies each invocation (response_stream mode) to uvicorn on $PORT.
# The task root holds app.py (--app-dir puts it first on sys.path, whatever the working directory);
# /opt/python holds the common layer (execution_monitor, starlette, uvicorn).
PATH=$PATH:$LAMBDA_TASK_ROOT/bin \
    PYTHONPATH=/opt/python:$LAMBDA_RUNTIME_DIR${PYTHONPATH:+:$PYTHONPATH} \
    exec python -m uvicorn --app-dir "$LAMBDA_TASK_ROOT" --host 127.0.0.1 --port "${PORT:-8080}" \
    --no-access-log --timeout-graceful-shutdown 1 app:app
