"""The Streamlit dashboard: ``oneprice dashboard`` serves ``main.py``.

``main.py`` builds the navigation; each page is one script in ``views/`` that reads and writes only
through ``oneprice.services.*`` using the helpers in ``common.py`` (cached reads, error messages,
empty states naming the command that fills them, formatting). To add a page: write
``views/<name>.py`` and list it in ``main.PAGES``.
"""
