"""``gradwalk.compile``: static-graph speed, the dynamic feel kept (docs/compile.md).

Python runs on every call; the ops of a compiled region record into a lazy trace, the trace's
key picks a cached program, and reading a value into Python runs the pending part first (Note
[the trace] in ``trace.py``, Note [lazy arrays] in ``lazy.py``, Note [the program's arithmetic
is eager's] in ``codegen.py``).
"""

from .api import CompiledFunction, OptimizedModule, compile

__all__ = ["compile", "CompiledFunction", "OptimizedModule"]
