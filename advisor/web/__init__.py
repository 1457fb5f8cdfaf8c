"""The Gradio web page: layout.py (components), chat.py and library_tab.py (handlers), updates.py (the adapter)."""
