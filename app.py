"""The front-door simulator in a browser: `streamlit run app.py`.

Opens on the baseline (Bradford's Integrated Front Door, July to December 2023) and answers it
at once, with the reported figures beside the model's. The pages are in ui/pages/ (one module a page); the
simulator itself (sim/) knows nothing of Streamlit.
"""

from __future__ import annotations

import streamlit as st

from ui import runs


def main() -> None:
    st.set_page_config(page_title="Front door simulator", page_icon=":material/family_restroom:",
                       layout="wide")
    runs.shared_pool()  # start the workers first: they load the simulator while the pages load
    from ui import experiments, pages, state

    state.init()
    experiments.keep_choices()
    page, status = pages.navigation()
    page.run()
    pages.sidebar_status(status)  # after the page: its name and changes are this rerun's, never the last


# Streamlit runs this file as __main__; worker processes never run the app (see ui/worker_main.py).
if __name__ == "__main__":
    main()
