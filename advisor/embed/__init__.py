"""Embedders: text → unit vectors, behind one small interface."""
