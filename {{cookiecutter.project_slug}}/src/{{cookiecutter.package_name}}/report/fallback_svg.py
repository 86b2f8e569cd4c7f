"""Draw a pydot graph as SVG without Graphviz: grandalf (a DVC dependency) lays it out."""

from html import escape

import pydot
from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

CHAR_WIDTH, NODE_HEIGHT, PADDING, MARGIN = 7, 30, 16, 20


class _View:
    """The size grandalf needs for each vertex, and the position it assigns."""

    def __init__(self, width: float) -> None:
        self.w, self.h, self.xy = width, NODE_HEIGHT, (0.0, 0.0)


def endpoint(value: object) -> str:
    """The node name at one end of an edge: text in these graphs (pydot's type also allows numbers, subgraphs)."""
    assert isinstance(value, str), value
    return value.strip('"')


def layout_svg(graph: pydot.Dot) -> str:
    """Layered layout, left to right like `rankdir=LR`, with links and fills kept from the pydot nodes."""
    nodes = {node.get_name().strip('"'): node for node in graph.get_nodes() if node.get_name() not in ("node", "edge")}
    vertices = {name: Vertex(name) for name in nodes}
    for name, vertex in vertices.items():
        label = nodes[name].get("label").strip('"')
        vertex.view = _View(len(label) * CHAR_WIDTH + 2 * PADDING)
    edges = [
        Edge(vertices[endpoint(edge.get_source())], vertices[endpoint(edge.get_destination())])
        for edge in graph.get_edges()
    ]
    layout_graph = Graph(list(vertices.values()), edges)
    for component in layout_graph.C:
        layout = SugiyamaLayout(component)
        layout.init_all()
        layout.draw()
    # grandalf lays out top-down; swap the axes to read left to right.
    positions = {name: (v.view.xy[1], v.view.xy[0]) for name, v in vertices.items()}
    min_x = min(x - vertices[n].view.w / 2 for n, (x, _) in positions.items()) - MARGIN
    min_y = min(y for _, y in positions.values()) - NODE_HEIGHT - MARGIN
    positions = {n: (x - min_x, y - min_y) for n, (x, y) in positions.items()}
    width = max(x + vertices[n].view.w / 2 for n, (x, _) in positions.items()) + MARGIN
    height = max(y for _, y in positions.values()) + NODE_HEIGHT + MARGIN

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.0f}pt" height="{height:.0f}pt" viewBox="0 0 {width:.0f} {height:.0f}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    for edge in graph.get_edges():
        source, target = endpoint(edge.get_source()), endpoint(edge.get_destination())
        (x1, y1), (x2, y2) = positions[source], positions[target]
        x1 += vertices[source].view.w / 2
        x2 -= vertices[target].view.w / 2
        parts.append(
            f'<g class="edge"><line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            'stroke="#555" marker-end="url(#arrow)"/></g>'
        )
    for name, node in nodes.items():
        x, y = positions[name]
        w = vertices[name].view.w
        label = escape(node.get("label").strip('"'))
        fill = (node.get("fillcolor") or "#ffffff").strip('"')
        text_fill = (node.get("fontcolor") or "black").strip('"')
        shape = (
            f'<rect x="{x - w / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" width="{w:.1f}" height="{NODE_HEIGHT}" '
            f'rx="4" fill="{fill}" stroke="#333"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" font-family="Helvetica,sans-serif" '
            f'font-size="11" fill="{text_fill}">{label}</text>'
        )
        url = node.get("URL")
        if url:
            shape = f'<a xlink:href="{escape(url.strip(chr(34)))}">{shape}</a>'
        parts.append(f'<g class="node" id="{escape(name)}"><title>{label}</title>{shape}</g>')
    parts.append("</svg>")
    return "\n".join(parts)
