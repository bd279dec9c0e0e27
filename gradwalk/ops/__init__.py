"""The op library: one declaration per op (forward, reverse rule, forward rule), by domain.

``registry`` declares and applies ops; ``elementwise``, ``reductions``, ``shape``, ``indexing``,
``linalg``, ``nn``, ``losses``, ``conv`` and ``norm`` hold the declarations and the public
functions; ``kernels`` has helpers shared by rules; ``dxp`` is the differentiable namespace the
rules get under ``create_graph=True``. (``vmap``'s batching sits above, in ``gradwalk.func``.)
"""
