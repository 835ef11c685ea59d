"""Shared code of the Workflow Execution Monitor: models, store, engine, progress, auth, API plumbing."""
