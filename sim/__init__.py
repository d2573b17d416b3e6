"""A discrete-event simulation of a conversations-based children's social care front door.

Data flows one way: scenario (sim.scenario) -> model (sim.model, an event log) -> measures
(sim.metrics) -> replications (sim.runner) -> faces (sim.cli, app.py).
"""

__version__ = "0.1.0"
