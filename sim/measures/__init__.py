"""Measures: one replication's event log to the service's own monthly measures (`metrics`, the
registry with labels), t intervals (`intervals`) and when a declared backlog cleared (`backlog`).
"""
