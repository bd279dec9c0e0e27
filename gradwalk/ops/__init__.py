"""The op library: one declaration per op (forward, reverse rule, forward rule), by domain.

``registry`` declares and applies ops (``rules`` derives and checks what a declaration leaves
out); ``unary``, ``elementwise``, ``logic``, ``reductions``, ``shape``, ``indexing``, ``linalg``,
``nn``, ``losses``, ``conv`` and ``norm`` hold the declarations and the public functions;
``generated`` makes the public functions of one-input elementwise declarations and ``surface``
gives Tensor its op methods (``bind``); ``arrays`` has the dim and array helpers; ``kernels``
has helpers shared by rules; ``dxp`` is the differentiable namespace the rules get under
``create_graph=True``; (``vmap``'s batching sits above, in
``gradwalk.func``.)
"""
