"""Stands in for the app as the main module of the pool's worker processes.

A worker started by forkserver or spawn first imports its parent's main module. In the app
that is app.py, which would import Streamlit into every worker for nothing; ui/runs.py points
the workers here instead, so they start with only the simulator loaded.
"""
