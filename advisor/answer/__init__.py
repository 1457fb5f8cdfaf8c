"""Answering: question checks, evidence checks, and the answerers (extractive default, LLM optional)."""
