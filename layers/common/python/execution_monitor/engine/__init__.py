"""The workflow engine: starting, steering and recording executions that Step Functions drives."""
