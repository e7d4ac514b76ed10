"""Question kinds: one module each, every one `(world, question, options) -> result`.

`ask.ask` dispatches a parsed query by its kind (`ask.ASK`): `today`, `ever`
(`ever/`), `bucket`. `explain` (one concrete request), `diff/` and `check/` have their
own entry points. Nothing below this package imports it.

This file imports nothing: `explain` never needs the solver, and importing z3 is half
of a short command's start-up.
"""
