"""Compile the policies of a run (:mod:`numaexp.model.policy`) and hand them to the kernels.

Each decision point has a slot in the state's ``pol`` tuple of first-class
functions, all of one signature (:data:`POLICY_SIGNATURE`); a run's
``p.policy_mask`` has bit ``i`` set when slot ``i`` holds a user's function.
The kernels test the bit before calling, so a run without policies takes
the kernel's inline path and pays one test per decision. User functions are
compiled with numba's cache (keyed by their own source file), so a policy
compiles once; the kernels themselves never recompile for a new policy.
"""

from __future__ import annotations

import warnings
import weakref

import numba
import numpy as np
from numba.core import types
from numba.core.errors import NumbaError

from numaexp.errors import ScenarioError
from numaexp.model.policy import DECISIONS, POLICY_CONTEXT_DTYPE, Policy
from numaexp.sim.engine.codes import CLK_POLICY_ERROR, CLK_POLICY_TICK, CLK_POLICY_VALUE
from numaexp.sim.engine.unowned import UnownedArray

CONTEXT_TYPE = UnownedArray.of(numba.typeof(np.zeros(1, dtype=POLICY_CONTEXT_DTYPE)))
"""numba type of the context a policy receives (a state array: never reference counted)."""

MEMORY_TYPE = UnownedArray.of(numba.typeof(np.zeros(1, dtype=np.int64)))
"""numba type of the per-page memory a policy may use."""

POLICY_SIGNATURE = types.int64(CONTEXT_TYPE, MEMORY_TYPE)
"""Signature of every policy: ``(ctx, mem) -> int64``."""

def _unused(ctx, mem):
    """Placeholder for a slot the kernel decides (never called: its mask bit is clear)."""
    return 0


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Compiled policies of this process, by Python function (numba's cache serves other
processes)."""


def compile_policy(function, decision: str):
    """``function`` compiled with :data:`POLICY_SIGNATURE` (once per process).

    Raises
    ------
    ScenarioError
        Naming the decision point and the expected signature, when numba
        cannot compile the function with it (wrong argument use, a return
        value that is not an integer, ...).
    """
    func = getattr(function, "py_func", function)
    if func in _COMPILED:
        return _COMPILED[func]
    _COMPILED[func] = _compile(func, decision)
    return _COMPILED[func]


def _compile(func, decision: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaExperimentalFeatureWarning)
        try:
            try:
                return numba.njit(POLICY_SIGNATURE, cache=True, nogil=True)(func)
            except (RuntimeError, OSError):  # no cache locator (e.g. code made by exec)
                return numba.njit(POLICY_SIGNATURE, nogil=True)(func)
        except (NumbaError, KeyError, TypeError, AttributeError, ValueError) as err:
            # numba reports a typing problem as its own error, or (a record field that
            # does not exist) as the KeyError of its type lookup
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
            if isinstance(err, KeyError):
                first = f"no field {err.args[0]!r} in the context record"
            raise ScenarioError(f"kernel.policy.{decision}",
                                f"{func.__qualname__} does not compile as a policy: {first}",
                                "a function f(ctx, mem) -> int of ctx = one record of "
                                "POLICY_CONTEXT_DTYPE, mem = int64 array; see "
                                "numaexp.model.policy") from None


_PLACEHOLDER = None


def policy_slots(policy: Policy) -> tuple:
    """The compiled function of every slot (a placeholder where the kernel decides; the
    slots a user's function holds are ``policy.mask``)."""
    global _PLACEHOLDER
    if _PLACEHOLDER is None:
        _PLACEHOLDER = compile_policy(_unused, "placeholder")
    chosen = policy.functions()
    return tuple(compile_policy(chosen[d.name], d.name) if d.name in chosen else _PLACEHOLDER
                 for d in DECISIONS)


def policy_failure(clk: np.ndarray, hz: int) -> ScenarioError:
    """The error of a run whose policy returned a value it may not (``clk[CLK_POLICY_*]``)."""
    decision = DECISIONS[int(clk[CLK_POLICY_ERROR]) - 1]
    return ScenarioError(f"kernel.policy.{decision.name}",
                         f"the policy returned {int(clk[CLK_POLICY_VALUE])} at "
                         f"{int(clk[CLK_POLICY_TICK]) / hz:.3f} simulated s; the run stopped",
                         decision.returns)
