"""A discrete-event simulation of a conversations-based children's social care front door.

The package is laid out by layer, and data flows one way, top to bottom:

    sim.cli          the command line (app.py and ui/ are the other face, above it)
    sim.experiments  replications, comparison, replication count, levers, target search,
                     sensitivity, calibration, validation, report, benchmark
    sim.measures     the event log to the service's own monthly measures, intervals, backlog
    sim.model        calendar, random streams, demand, rosters, the SimPy front door, the
                     pathway after a referral, children and families: one replication's log
    sim.scenario     the validated scenario: parameter types, schema, reading files
    sim.io           writing result sets whole, the reported figures

A module may import from its own layer and the layers below it, never from a layer above,
and modules of one layer import one another without cycles. `lint-imports` (import-linter,
the contracts in pyproject.toml) checks both in CI. An import inside a function is there only
to keep start-up quick (the command line's `check` loads no model), and says so.
"""

__version__ = "0.1.0"
