"""Encoder: the rules of kms-semantics.md as Z3 formulas over a symbolic request.

Never imports `kmsprove.evaluate`; the concrete evaluator is its independent
twin, and the two meet only in `kmsprove.solve` (re-checking every
counterexample) and in the differential tests.
"""
