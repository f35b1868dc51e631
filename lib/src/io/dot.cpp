// dot.cpp: Graphviz output.
#include "scaleinv/io/dot.hpp"

#include <fmt/format.h>

#include "scaleinv/paths/active.hpp"
#include "scaleinv/paths/basis.hpp"

namespace scaleinv {
namespace {
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}
}  // namespace

std::string write_dot(const network& net, bool show_basis) {
  active_subgraph active = find_active(net);
  path_basis basis;
  if (show_basis) basis = make_basis(net, active);
  std::string out =
      "digraph network {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=8];\n";
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    const node& nd = net.node_at(v);
    std::string shape = "circle", extra;
    std::string label = quoted(nd.id);
    switch (nd.kind) {
      case node_kind::input:
        shape = "box";
        break;
      case node_kind::bias:
        shape = "box";
        extra = ", style=dashed";
        break;
      case node_kind::output:
        shape = "doublecircle";
        break;
      case node_kind::hidden:
        // \n is DOT's line break inside a quoted label: appended after escaping, not escaped.
        if (nd.act.kind != activation_kind::relu) label.insert(label.size() - 1, "\\n" + nd.act.spec());
        if (!nd.act.is_homogeneous()) extra = ", style=filled, fillcolor=lightyellow";
        break;
    }
    bool dead = (nd.kind == node_kind::hidden && nd.act.is_homogeneous() && !active.is_active_unit(net, v));
    if (dead) extra += ", color=gray, fontcolor=gray, style=dashed";
    out += fmt::format("  {} [shape={}, label={}{}];\n", quoted(nd.id), shape, label, extra);
  }
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    std::string label = fmt::format("e{}", e);
    if (net.is_constant(e)) label += fmt::format(": {:.4g} const", net.constant_value(e).get_d());
    else if (net.has_weights()) label += fmt::format(": {:.4g}", net.weight(e));
    if (net.param(e) != npos) label += " [" + net.param_names()[net.param(e)] + "]";
    std::string attrs;
    if (!active.is_active_edge(e)) {
      attrs = ", color=gray, fontcolor=gray, style=dashed";
    } else if (show_basis) {
      bool skeleton = basis.parent_edge[ed.to] == e || basis.child_edge[ed.from] == e;
      bool is_free = basis.free_edges[basis.index_of[e]] == e;
      if (is_free) {
        label += fmt::format(" B{}", basis.index_of[e]);
        attrs = skeleton ? ", color=red, fontcolor=red, penwidth=2" : ", color=red, fontcolor=red";
      } else if (skeleton) {
        attrs = ", color=blue, penwidth=2";
      }
    }
    if (net.is_constant(e) && active.is_active_edge(e)) attrs += ", style=dashed";  // fixed weight, not a parameter
    out += fmt::format("  {} -> {} [label={}{}];\n", quoted(net.node_at(ed.from).id), quoted(net.node_at(ed.to).id),
                       quoted(label), attrs);
  }
  out += "}\n";
  return out;
}

}  // namespace scaleinv
