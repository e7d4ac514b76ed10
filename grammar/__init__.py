"""Lark grammars, installed as package data (`kmsprove.grammar`)."""
