"""Helpers for the Streamlit front end (app.py): levers, runs, charts, workbook and pages.

The simulator itself lives in `sim/` and knows nothing of Streamlit; everything here turns its
scenarios and results into something a service manager can read, change and download.
"""
