"""Function transforms, as ``torch.func`` has them: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian`` and ``vmap``. They compose: ``grad(grad(f))``,
``jacfwd(jacrev(f))``, ``vmap(grad(f))``.

Example:
    >>> import gradwalk
    >>> from gradwalk.func import grad, vmap
    >>> grad(lambda x: (x ** 3).sum())(gradwalk.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    >>> vmap(grad(lambda x: (x ** 2).sum()))(gradwalk.tensor([[1.0], [2.0]]))
    tensor([[2.],
            [4.]])
"""

from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._vmap import vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]
