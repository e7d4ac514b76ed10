"""What a model got wrong, as the encoder tells the solver (`solve.session.Session.ask`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import z3


@dataclass(frozen=True)
class Refinement:
    """What a model got wrong: `facts` must hold from now on; `pins` are tried first in
    place of `instead`, facts they meet by construction (see `Session.ask`)."""

    facts: Sequence[z3.BoolRef] = ()
    pins: Sequence[z3.BoolRef] = ()
    instead: Sequence[z3.BoolRef] = ()

    def __bool__(self) -> bool:
        return bool(self.facts or self.instead)
