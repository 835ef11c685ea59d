"""The one-machine runtime behind `make dev`: moto, an API Gateway stand-in, local tokens, a seed.

`__main__` (`python -m infrastructure.local`) binds the port and serves the `gateway` (ASGI, built
on `events`) under uvicorn; `runtime` starts moto (`aws`), the table, the engine (`engine`,
`lambda_invoker`) and the `seed`; `tokens` owns the local signing key and mints bearer tokens.
"""
