"""Fakes that tests start on 127.0.0.1: a scriptable OpenAI-compatible / Ollama chat server."""
