"""``Picture``: a drawn graph (boxes and arrows) that renders as DOT, SVG or PNG.

The DOT text is written here, without any dependency; rendering to SVG/PNG uses the optional
``graphviz`` Python package and Graphviz's ``dot`` program (``apt-get install graphviz``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Box:
    """One box of a picture: ``label`` lines, a ``kind`` (``op``, ``leaf``, ``param``, ``root``,
    ``module``, ``tensor``, ``const``) that sets its style, and extra DOT attributes."""

    id: str
    label: str
    kind: str = "op"
    attrs: dict = field(default_factory=dict)


@dataclass
class Arrow:
    """An arrow from box ``src`` to box ``dst`` with an optional label."""

    src: str
    dst: str
    label: str = ""
    attrs: dict = field(default_factory=dict)


_STYLE = {
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "#e8eef7"},
    "root": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#c9dcf5"},
    "leaf": {"shape": "ellipse", "style": "filled", "fillcolor": "#fdf1c9"},
    "param": {"shape": "ellipse", "style": "filled", "fillcolor": "#e3f2d9"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#efe3f5"},
    "tensor": {"shape": "ellipse", "style": "dashed"},
    "const": {"shape": "box", "style": "dashed,rounded", "fontcolor": "#444444"},
}


#: One line each: what is missing to render a picture, and how to install it.
MISSING_DOT = ("drawing needs Graphviz's dot program: install it with apt-get install graphviz, "
               "brew install graphviz or conda install graphviz (picture.source has the DOT text)")
MISSING_PACKAGE = ("drawing needs the graphviz Python package: pip install graphviz, and "
                   "Graphviz's dot program (apt-get install graphviz or brew install graphviz)")


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become centred line breaks."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


class Picture:
    """A picture of a graph: boxes and arrows, shown as SVG in Jupyter, DOT text anywhere.

    Make one with ``gradwalk.viz.draw`` (or ``walk.draw()``); ``.source`` is the DOT text,
    ``.svg()``/``.png()`` render it (they need ``graphviz`` and the ``dot`` program),
    ``.save(path)`` writes ``.dot``, ``.svg`` or ``.png`` by the file's suffix.

    Example:
        >>> from gradwalk.viz import Picture
        >>> p = Picture("demo")
        >>> p.add_box("a", "x", kind="leaf"); p.add_box("b", "Mul"); p.add_arrow("a", "b")
        >>> print(p.source.splitlines()[0])
        digraph "demo" {
        >>> len(p.boxes), len(p.arrows)
        (2, 1)
    """

    def __init__(self, name: str = "gradwalk", rankdir: str = "BT") -> None:
        self.name = name
        self.rankdir = rankdir
        self.boxes: dict[str, Box] = {}
        self.arrows: list[Arrow] = []

    # ------------------------------------------------------------------ building
    def add_box(self, id: str, label: str, kind: str = "op", **attrs) -> None:
        """Add (or relabel) the box ``id``."""
        self.boxes[id] = Box(id, label, kind, dict(attrs))

    def add_arrow(self, src: str, dst: str, label: str = "", **attrs) -> None:
        """Add an arrow ``src -> dst``."""
        self.arrows.append(Arrow(src, dst, label, dict(attrs)))

    # ------------------------------------------------------------------ DOT text
    def to_dot(self) -> str:
        """The picture as Graphviz DOT text (needs nothing installed).

        Example:
            >>> from gradwalk.viz import Picture
            >>> p = Picture("g"); p.add_box("n0", 'say "hi"')
            >>> 'n0 [label="say \\\\"hi\\\\""' in p.to_dot()
            True
        """
        lines = [f"digraph {_quote(self.name)} {{",
                 f"  graph [rankdir={self.rankdir}, fontname=Helvetica];",
                 '  node [fontname=Helvetica, fontsize=11];',
                 '  edge [fontname=Helvetica, fontsize=9];']
        for box in self.boxes.values():
            attrs = {"label": box.label, **_STYLE.get(box.kind, {}), **box.attrs}
            lines.append(f"  {box.id} [{_attrs(attrs)}];")
        for a in self.arrows:
            attrs = dict(a.attrs)
            if a.label:
                attrs = {"label": a.label, **attrs}
            tail = f" [{_attrs(attrs)}]" if attrs else ""
            lines.append(f"  {a.src} -> {a.dst}{tail};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    @property
    def source(self) -> str:
        """The DOT text (as ``graphviz.Source.source``)."""
        return self.to_dot()

    def __str__(self) -> str:
        return self.to_dot()

    def __repr__(self) -> str:
        return f"<Picture {self.name}: {len(self.boxes)} boxes, {len(self.arrows)} arrows>"

    # ------------------------------------------------------------------ rendering
    def pipe(self, format: str = "svg") -> bytes:
        """Render with Graphviz to ``format`` (``svg``, ``png``, ``pdf``...) and return the bytes.

        Raises ``RuntimeError`` naming the remedy when ``graphviz`` or ``dot`` is missing.
        """
        try:
            import graphviz  # type: ignore[import-not-found]
        except ImportError:
            raise RuntimeError(MISSING_PACKAGE) from None
        try:
            return graphviz.Source(self.to_dot()).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(MISSING_DOT) from None

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe("svg").decode("utf-8")

    def png(self) -> bytes:
        """The picture as PNG bytes."""
        return self.pipe("png")

    def save(self, path: str) -> str:
        """Write the picture to ``path``: ``.dot``/``.gv`` as text, else rendered by suffix."""
        import os

        suffix = os.path.splitext(path)[1].lstrip(".").lower() or "dot"
        if suffix in ("dot", "gv"):
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.to_dot())
        else:
            data = self.pipe(suffix)
            with open(path, "wb") as f:
                f.write(data)
        return path

    def _repr_svg_(self):
        try:
            return self.svg()
        except RuntimeError:
            return None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter shows the SVG when Graphviz is installed, else one line saying how to
        install it, above the DOT text."""
        from html import escape

        bundle = {"text/plain": self.to_dot()}
        try:
            bundle["image/svg+xml"] = self.svg()
        except RuntimeError as e:
            bundle["text/html"] = (f"<p>{escape(str(e), quote=False)}</p>\n<pre>"
                                   f"{escape(self.to_dot(), quote=False)}"
                                   "</pre>")
        return bundle


def _attrs(attrs: dict) -> str:
    return ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())
