"""Which module each node of a graph belongs to, for ``draw(..., collapse_modules=...)``.

Note [module groups]
    Three sources, best first:

    * tags written by ``viz.record(model)`` during the forward (``node.meta["module"]``): exact;
    * without tags, the modules bound to variables in the caller's frame (``lstm``, ``head``,
      ``model``): each parameter belongs to the innermost module that holds it, named by its
      path from the variable (``lstm``, ``0`` for the first layer of the Sequential ``model``),
      and the nodes that read a module's parameters belong to it. A node that reads only nodes
      of one module belongs to it too when it was created between that module's first and last
      parameter-reading nodes (``node.seq``), or after them when the module reads its
      parameters more than once (a recurrent layer: the gates of its last step come after its
      last ``linear``) and the node is not one of the drawn tensors. A ``Linear`` reads its
      parameters once, so the ``Tanh`` after it in a ``Sequential`` stays its own box;
    * without either, a parameter's dotted ``.name`` (``0.weight``) gives the module ``0``.

Example:
    >>> import gradwalk
    >>> from gradwalk import nn
    >>> from gradwalk.viz.collapse import param_owners
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    >>> sorted(set(param_owners({"model": model}).values()))
    [('0', 'Linear')]
"""

from __future__ import annotations

from ..autograd.node import AccumulateGrad


def frame_modules(frame) -> dict:
    """``{variable name: module}`` for the modules bound in ``frame``'s locals."""
    from ..nn.modules.module import Module

    if frame is None:
        return {}
    try:
        items = list(frame.f_locals.items())
    except Exception:  # pragma: no cover - exotic frames
        return {}
    return {k: v for k, v in items if isinstance(v, Module) and not k.startswith("_")}


def param_owners(modules: dict) -> dict:
    """``{id(parameter): (module path, class name)}``: the innermost module holding each one.

    Bigger modules are visited first, so that a layer also bound to its own variable
    (``lin = model[0]``) is named inside its model.
    """
    owners: dict = {}
    ranked = sorted(modules.items(), key=lambda kv: -sum(1 for _ in kv[1].parameters()))
    for var, top in ranked:
        for path, mod in top.named_modules():
            for _, p in mod.named_parameters(recurse=False):
                owners.setdefault(id(p), (path or var, type(mod).__name__))
    return owners


def module_classes(modules: dict) -> dict:
    """``{module path: class name}`` for every module (and submodule) in ``modules``."""
    out: dict = {}
    for var, top in modules.items():
        for path, mod in top.named_modules():
            out.setdefault(path or var, type(mod).__name__)
    return out


def groups(g, modules: dict) -> tuple:
    """``({node: module path}, {module path: class name})`` for the graph ``g``
    (Note [module groups])."""
    tagged = {n: n.meta["module"] for n in g.order
              if type(n) is not AccumulateGrad and n.meta and n.meta.get("module")}
    if tagged:
        return _from_tags(g, tagged)
    owners = param_owners(modules)
    if not owners:
        return _from_param_names(g), {}
    classes = module_classes(modules)
    out: dict = {}
    anchors: dict = {}   # module path -> [seq of nodes reading its parameters]
    for n in g.order:
        if type(n) is AccumulateGrad:
            o = owners.get(id(n.variable))
            if o:
                out[n] = o[0]
            continue
        for e in n.edges:
            if type(e) is AccumulateGrad and id(e.variable) in owners:
                out[n] = owners[id(e.variable)][0]
                anchors.setdefault(out[n], []).append(n.seq)
                break
    roots = set(g.roots)
    for n in sorted((n for n in g.order if type(n) is not AccumulateGrad and n not in out),
                    key=lambda n: n.seq):
        # an edge into output k of a multi-output node is (node, k)
        ins = [e[0] if type(e) is tuple else e for e in n.edges if e is not None]
        tags = {out.get(e) for e in ins}
        if len(tags) != 1 or None in tags:
            continue
        tag = tags.pop()
        seqs = anchors.get(tag)
        if not seqs:
            continue
        if min(seqs) <= n.seq <= max(seqs) or (len(seqs) > 1 and n not in roots):
            out[n] = tag
    return out, classes


def _from_tags(g, tagged) -> tuple:
    """Tags of ``record(model)``; untagged parameters and their readers follow the tags of the
    nodes that read them, else their dotted names."""
    out = dict(tagged)
    classes = {t: n.meta.get("module_type") for n, t in tagged.items()}
    for n in g.order:
        if n in out:
            continue
        tag = None
        if type(n) is AccumulateGrad:
            tag = _param_prefix(n.variable)
        else:
            for e in n.edges:
                if type(e) is AccumulateGrad:
                    tag = _param_prefix(e.variable)
                    if tag:
                        break
        if tag:
            out[n] = tag
    return out, {k: v for k, v in classes.items() if v}


def _from_param_names(g) -> dict:
    out: dict = {}
    for n in g.order:
        if type(n) is AccumulateGrad:
            tag = _param_prefix(n.variable)
        else:
            tag = next((t for e in n.edges if type(e) is AccumulateGrad
                        for t in [_param_prefix(e.variable)] if t), None)
        if tag:
            out[n] = tag
    return out


def _param_prefix(leaf) -> str | None:
    name = leaf.name
    if name and "." in name:
        return name.rsplit(".", 1)[0]
    return None


def cut(tag: str, depth: int | None) -> str:
    """The first ``depth`` parts of a dotted module path (all of it for ``None``).

    Example:
        >>> cut("layers.0.fc", 2), cut("layers.0.fc", None)
        ('layers.0', 'layers.0.fc')
    """
    return tag if depth is None else ".".join(tag.split(".")[:depth])
