"""The scenario: what a user states about a front door, validated before anything runs.

`params` holds the parameter types that carry provenance and a plausible range, `schema` the
scenario's blocks and their checks, `safe_yaml` the one hardened reader for every file a user
gives, and `loading` reading a file with its `extends`.
"""
