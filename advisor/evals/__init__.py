"""The offline eval suite: a golden set, metrics without an LLM judge, and a readable report."""
