"""The domain: executions, steps and runs as typed state, and the rules that derive what users see.

Nothing here knows about DynamoDB items, HTTP or Step Functions payloads: the store adapter maps
these types to items, the API maps them to the wire models, the engine decides transitions.
"""
