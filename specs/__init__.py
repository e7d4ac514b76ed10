"""Service model data files, installed as package data (`kmsprove.specs`)."""
