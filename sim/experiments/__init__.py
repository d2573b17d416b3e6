"""Experiments on scenarios: replications (`runner`, `executors`), paired comparison on common
random numbers (`compare`), the replication count (`reps`), levers and the target search,
sensitivity, calibration, validation, the report and the benchmark.
"""
