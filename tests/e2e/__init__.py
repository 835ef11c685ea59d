"""End-to-end tests: the local runtime (`make dev`) over real HTTP."""
