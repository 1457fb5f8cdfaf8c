"""The Gradio web page: a thin adapter over advisor.core (layout in app.py, HTML in render.py, strings in i18n.py)."""
