"""The model: one replication of a scenario as SimPy processes, emitting an event log.

`calendar` (office hours and working days), `rng` (one named stream per random activity),
`demand` (arrivals), `sampling` (uniforms to durations and outcomes), `rosters` (who is on
duty), `frontdoor` (the SimPy front door), `downstream`, `children` and `pathway` (after a
referral), `results` (what a replication leaves) and `replication` (the entry point).
"""
