"""L-BFGS with PyTorch's closure protocol and its optional strong-Wolfe line search.

The algorithm is PyTorch's (itself after minFunc): a two-loop recursion over the last
``history_size`` curvature pairs gives the direction; the step is ``lr`` (the first one scaled by
``1 / sum|g|``), or the step the strong-Wolfe search finds by cubic interpolation. All
parameters are flattened into one float vector for the math, on their array namespace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import xp_of
from ..ops import registry as _registry
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, _bump_version, _flush_compiled


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimizer of the cubic through two points with their slopes, kept in ``bounds``."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(pos, lo), hi)


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """PyTorch's strong-Wolfe line search: bracket a step, then zoom by cubic interpolation.

    ``evaluate(t)`` returns the loss and flat gradient at ``x + t*d`` (and restores ``x``).
    Returns ``(loss, flat gradient, step, evaluations)``.
    """
    d_norm = float(abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    it = 0
    bracket = bracket_f = bracket_g = bracket_gtd = None
    while it < max_ls:
        if f_new > f + c1 * t * gtd or (it > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        lo, hi = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                          bounds=(lo, hi))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
    if it == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insufficient = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and it < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        it += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new.copy(), gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new.copy(), gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """L-BFGS: a quasi-Newton method that needs a ``closure`` re-evaluating the loss.

    One ``step(closure)`` runs up to ``max_iter`` iterations (and ``max_eval`` evaluations),
    stopping early when the gradient (``tolerance_grad``) or the change in loss or step
    (``tolerance_change``) is small. ``line_search_fn="strong_wolfe"`` searches each step.
    Parameter groups are not supported (as in PyTorch).

    Example:
        >>> import gradwalk
        >>> w = gradwalk.tensor([3.0, -2.0], requires_grad=True)
        >>> opt = gradwalk.optim.LBFGS([w], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((w - 1.0) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> [round(v, 6) for v in w.tolist()]
        [1.0, 1.0]
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (it must be >= 0)")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change,
                                      history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ---- the flat view of all parameters
    def _flat_grad(self):
        xp = xp_of(self._params[0]._data)
        parts = [xp.zeros(p._data.size, p._data.dtype) if p.grad is None
                 else p.grad._data.reshape(-1) for p in self._params]
        return xp.concatenate(parts)

    def _add_to_params(self, step: float, direction) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step * direction[offset:offset + n].reshape(p._data.shape)
            _bump_version(p)
            offset += n

    def _evaluate_at(self, closure, step: float, direction):
        """Loss and flat gradient at ``params + step*direction``; the params are restored."""
        saved = [p._data.copy() for p in self._params]
        self._add_to_params(step, direction)
        with enable_grad():
            loss = float(closure())
        grad = self._flat_grad()
        for p, data in zip(self._params, saved):
            p._data[...] = data
            _bump_version(p)
        return loss, grad

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run one L-BFGS optimization step; ``closure`` re-evaluates the loss and its grads.

        Example:
            >>> import gradwalk
            >>> w = gradwalk.tensor([2.0], requires_grad=True)
            >>> opt = gradwalk.optim.LBFGS([w], lr=0.5, max_iter=1)
            >>> def closure():
            ...     opt.zero_grad(); loss = (w * w).sum(); loss.backward(); return loss
            >>> opt.step(closure)
            tensor(4., grad_fn=<SumBackward0>)
        """
        if closure is None:
            raise RuntimeError("LBFGS.step() needs a closure that re-evaluates the loss and "
                               "calls backward(); see the class docstring")
        if _registry._trace is not None:
            _flush_compiled("LBFGS.step() writes parameters")
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        grad = self._flat_grad()
        if float(abs(grad).max()) <= tol_grad:
            return orig_loss
        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                d, h_diag = self._direction(grad, prev_grad, d, t, old_dirs, old_stps, ro,
                                            h_diag, history, state)
            prev_grad = grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(abs(grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(grad @ d)
            if gtd > -tol_change:
                break
            ls_evals = 0
            if group["line_search_fn"] is not None:
                loss, grad, t, ls_evals = _strong_wolfe(
                    lambda step, d=d: self._evaluate_at(closure, step, d), t, d, loss, grad, gtd,
                    max_ls=max_eval - evals)
                self._add_to_params(t, d)
                converged = float(abs(grad).max()) <= tol_grad
            else:
                self._add_to_params(t, d)
                converged = False
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    grad = self._flat_grad()
                    converged = float(abs(grad).max()) <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if float(abs(d * t).max()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return orig_loss

    @staticmethod
    def _direction(grad, prev_grad, d, t, old_dirs, old_stps, ro, h_diag, history, state):
        """The two-loop recursion: update the curvature history, return ``-H grad``."""
        y = grad - prev_grad
        s = d * t
        ys = float(y @ s)
        if ys > 1e-10:
            if len(old_dirs) == history:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            h_diag = ys / float(y @ y)
        al = state.setdefault("al", [None] * history)
        q = -grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = float(old_stps[i] @ q) * ro[i]
            q = q - al[i] * old_dirs[i]
        r = q * h_diag
        for i in range(len(old_dirs)):
            be_i = float(old_dirs[i] @ r) * ro[i]
            r = r + (al[i] - be_i) * old_stps[i]
        return r, h_diag
