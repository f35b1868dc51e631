// network_json.cpp: reading and writing scaleinv.network files with nlohmann::json.
#include "scaleinv/io/network_json.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "json_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"

namespace scaleinv {
namespace {
using json = nlohmann::json;

struct reader {
  std::string source;
  [[noreturn]] void fail(const std::string& where, const std::string& message) const {
    throw parse_error(source, 0, 0, where.empty() ? message : where + ": " + message);
  }
  void check_keys(const json& obj, const std::set<std::string>& allowed, const std::string& where) const {
    for (const auto& [key, value] : obj.items()) {
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        fail(where, fmt::format("unknown key \"{}\" (allowed: {})", key, list));
      }
    }
  }
  std::string string_field(const json& obj, const char* key, const std::string& where) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(where, fmt::format("missing \"{}\"", key));
    if (!it->is_string()) fail(where, fmt::format("\"{}\" must be a string, not {}", key, it->type_name()));
    return it->get<std::string>();
  }
  // A number (read as a binary double, exactly) or a string holding an exact rational.
  mpq_class rational(const json& value, const std::string& where, const char* what) const {
    if (value.is_number()) {
      double d = value.get<double>();
      if (!std::isfinite(d)) fail(where, fmt::format("{} {} is not finite", what, value.dump()));
      return mpq_class(d);
    }
    if (value.is_string()) {
      auto q = parse_rational(value.get<std::string>());
      if (!q) {
        fail(where, fmt::format("{} \"{}\" is not a finite number (expected a decimal such as -0.75 or a "
                                "rational such as \"-3/4\")",
                                what, value.get<std::string>()));
      }
      return *q;
    }
    fail(where, fmt::format("{} must be a number or a string holding a rational, not {}", what, value.type_name()));
  }
};

std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

json number_or_rational(const mpq_class& q) {
  if (is_exact_double(q)) return q.get_d();
  return to_string(q);
}

json parse_document(std::string_view text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    auto [line, column] = line_column(text, e.byte);
    std::string what = e.what();
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line L, column C: detail".
    if (auto colon = what.find(": ", what.find("parse error")); colon != std::string::npos)
      what = what.substr(colon + 2);
    throw parse_error(source, line, column, "invalid JSON: " + what);
  } catch (const json::exception& e) {
    // out_of_range 406: a number no double can hold ("1e999", a 400-digit integer).
    std::string what = e.what();
    if (auto bracket = what.find("] "); bracket != std::string::npos) what = what.substr(bracket + 2);
    throw parse_error(source, 0, 0,
                      "invalid JSON: " + what + " (numbers must fit a double; give an exact weight as a string)");
  }
  return doc;
}

// The hidden node's activation, with "slope"/"slopes" checked against it.
activation read_activation(reader& r, const json& nd, node_kind kind, const std::string& kind_name,
                           const std::string& where) {
  activation act;
  if (kind != node_kind::hidden) {
    for (const char* key : {"activation", "slope", "slopes"})
      if (nd.contains(key))
        r.fail(where, fmt::format("{} {} node has no \"{}\"; only hidden nodes do",
                                  kind == node_kind::input || kind == node_kind::output ? "an" : "a", kind_name, key));
  } else if (nd.contains("activation")) {
    std::string name = r.string_field(nd, "activation", where);
    activation_kind kind_only{};
    if (name.find(':') == std::string::npos && activation_kind_from_name(name, kind_only) &&
        kind_only == activation_kind::bilu) {
      act = activation::bilu(0, 1);  // slopes come from "slopes" below
    } else {
      try {
        act = activation::parse(name);
      } catch (const invalid_argument& e) { r.fail(where, e.what()); }
    }
    bool one = act.kind == activation_kind::leaky_relu || act.kind == activation_kind::prelu;
    bool two = act.kind == activation_kind::bilu;
    if (nd.contains("slope")) {
      if (!one) r.fail(where, fmt::format("\"slope\" belongs to leaky_relu and prelu, not {}", act.name()));
      if (name.find(':') != std::string::npos)
        r.fail(where, "the slope is given twice (in \"activation\" and \"slope\")");
      act.neg = r.rational(nd["slope"], where, "slope");
      if (const char* why = slope_range_problem(act.neg))
        r.fail(where, fmt::format("slope {} {}", nd["slope"].dump(), why));
    }
    if (nd.contains("slopes")) {
      if (!two) r.fail(where, fmt::format("\"slopes\" belongs to bilu, not {}", act.name()));
      if (name.find(':') != std::string::npos)
        r.fail(where, "the slopes are given twice (in \"activation\" and \"slopes\")");
      const json& s = nd["slopes"];
      if (!s.is_array() || s.size() != 2) r.fail(where, "\"slopes\" must be an array [a, b] (x < 0: a x; x >= 0: b x)");
      act.neg = r.rational(s[0], where, "slope a");
      act.pos = r.rational(s[1], where, "slope b");
      if (const char* why = slope_range_problem(act.neg)) r.fail(where, fmt::format("slope a {} {}", s[0].dump(), why));
      if (const char* why = slope_range_problem(act.pos)) r.fail(where, fmt::format("slope b {} {}", s[1].dump(), why));
    } else if (two && name.find(':') == std::string::npos) {
      r.fail(where, "bilu needs \"slopes\": [a, b]");
    }
  } else if (nd.contains("slope") || nd.contains("slopes")) {
    r.fail(where, "\"slope\"/\"slopes\" given without \"activation\"");
  }
  return act;
}

void read_node(reader& r, network& net, const json& nd, std::size_t i) {
  std::string where = fmt::format("nodes[{}]", i);
  if (!nd.is_object()) r.fail(where, fmt::format("must be an object, not {}", nd.type_name()));
  r.check_keys(nd, {"id", "kind", "activation", "slope", "slopes", "comment"}, where);
  std::string id = r.string_field(nd, "id", where);
  if (id.empty()) r.fail(where, "\"id\" is empty");
  where = fmt::format("nodes[{}] (id \"{}\")", i, id);
  std::string kind_name = r.string_field(nd, "kind", where);
  node_kind kind{};
  if (kind_name == "input") kind = node_kind::input;
  else if (kind_name == "bias") kind = node_kind::bias;
  else if (kind_name == "hidden") kind = node_kind::hidden;
  else if (kind_name == "output") kind = node_kind::output;
  else r.fail(where, fmt::format("unknown kind \"{}\" (expected input, bias, hidden or output)", kind_name));
  activation act = read_activation(r, nd, kind, kind_name, where);
  try {
    net.add_node(id, kind, act);
  } catch (const invalid_network&) {
    r.fail(where, fmt::format("duplicate node id \"{}\" (first defined at nodes[{}])", id, *net.find_node(id)));
  }
}

void read_edge(reader& r, network& net, const json& ed, std::size_t i, std::size_t& first_weighted,
               std::size_t& first_unweighted) {
  std::string where = fmt::format("edges[{}]", i);
  if (!ed.is_object()) r.fail(where, fmt::format("must be an object, not {}", ed.type_name()));
  r.check_keys(ed, {"from", "to", "weight", "param", "constant", "comment"}, where);
  std::string from = r.string_field(ed, "from", where), to = r.string_field(ed, "to", where);
  where = fmt::format("edges[{}] ({} -> {})", i, from, to);
  auto u = net.find_node(from), v = net.find_node(to);
  if (!u) r.fail(where, fmt::format("unknown node \"{}\" in \"from\"", from));
  if (!v) r.fail(where, fmt::format("unknown node \"{}\" in \"to\"", to));
  edge_id e = net.add_edge(*u, *v);
  bool constant = false;
  if (ed.contains("constant")) {
    if (!ed["constant"].is_boolean())
      r.fail(where, fmt::format("\"constant\" must be true or false, not {}", ed["constant"].dump()));
    constant = ed["constant"].get<bool>();
  }
  if (constant) {
    // A fixed weight, not a parameter (default 1); it does not count for "every edge or none".
    if (ed.contains("param")) r.fail(where, "a constant edge has no \"param\": its weight is fixed, not a parameter");
    mpq_class w = 1;
    if (ed.contains("weight")) {
      w = r.rational(ed["weight"], where, "constant weight");
      if (!std::isfinite(w.get_d()))
        r.fail(where, fmt::format("constant weight {} is beyond the range of a double", ed["weight"].dump()));
    }
    net.set_constant(e, w);
  } else if (ed.contains("weight")) {
    mpq_class w = r.rational(ed["weight"], where, "weight");
    if (!std::isfinite(w.get_d()))
      r.fail(where, fmt::format("weight {} is beyond the range of a double", ed["weight"].dump()));
    net.set_exact_weight(e, w);
    if (first_weighted == npos) first_weighted = i;
  } else if (first_unweighted == npos) {
    first_unweighted = i;
  }
  if (ed.contains("param")) {
    const json& p = ed["param"];
    if (p.is_string() && !p.get<std::string>().empty()) net.set_param(e, p.get<std::string>());
    else if (p.is_number_integer()) net.set_param(e, p.dump());
    else r.fail(where, "\"param\" must be a non-empty string or an integer");
  }
}
}  // namespace

network read_network_json(std::string_view text, const std::string& source) {
  reader r{source};
  json doc = parse_document(text, source);
  if (!doc.is_object()) r.fail("", fmt::format("the top level must be an object, not {}", doc.type_name()));
  r.check_keys(doc, {"format", "version", "nodes", "edges", "name", "comment", "training"},
               "");  // training: a checkpoint's state
  if (r.string_field(doc, "format", "") != "scaleinv.network")
    r.fail("", fmt::format("\"format\" must be \"scaleinv.network\", not {}", doc["format"].dump()));
  if (!doc.contains("version")) r.fail("", "missing \"version\" (this reader knows version 1)");
  if (!doc["version"].is_number_integer() || doc["version"].get<long long>() != 1)
    r.fail("", fmt::format("unsupported \"version\" {} (this reader knows version 1)", detail::shown(doc["version"])));
  for (const char* key : {"nodes", "edges"}) {
    if (!doc.contains(key)) r.fail("", fmt::format("missing \"{}\" (an array, possibly empty)", key));
    if (!doc[key].is_array()) r.fail("", fmt::format("\"{}\" must be an array, not {}", key, doc[key].type_name()));
  }
  network net;
  const json& nodes = doc["nodes"];
  for (std::size_t i = 0; i < nodes.size(); ++i) { read_node(r, net, nodes[i], i); }
  const json& edges = doc["edges"];
  std::size_t first_weighted = npos, first_unweighted = npos;
  for (std::size_t i = 0; i < edges.size(); ++i) { read_edge(r, net, edges[i], i, first_weighted, first_unweighted); }
  if (first_weighted != npos && first_unweighted != npos) {
    r.fail(fmt::format("edges[{}]", first_unweighted),
           fmt::format("has no weight, but edges[{}] has one: give every edge {}a weight, or none", first_weighted,
                       net.has_constants() ? "that is not constant " : ""));
  }
  try {
    net.finalize();
  } catch (const not_a_dag& e) { throw not_a_dag(e.cycle(), source); } catch (const invalid_network& e) {
    r.fail("", e.what());
  }
  return net;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw parse_error(path, 0, 0, fmt::format("cannot open: {}", std::strerror(errno)));
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw parse_error(path, 0, 0, "is a directory, not a file");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw parse_error(path, 0, 0, "read error");
  return ss.str();
}

network read_network_file(const std::string& path) { return read_network_json(read_text_file(path), path); }

std::string write_network_json(const network& net) { return write_network_json(net, {}); }

std::string write_network_json(const network& net, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::string out = "{\n  \"format\": \"scaleinv.network\",\n  \"version\": 1,\n  \"nodes\": [";
  for (node_id v = 0; v < net.num_nodes(); ++v) {
    const node& nd = net.node_at(v);
    json j = {{"id", nd.id}, {"kind", std::string(to_string(nd.kind))}};
    if (nd.kind == node_kind::hidden) {
      j["activation"] = nd.act.name();
      if (nd.act.kind == activation_kind::leaky_relu || nd.act.kind == activation_kind::prelu)
        j["slope"] = number_or_rational(nd.act.neg);
      if (nd.act.kind == activation_kind::bilu)
        j["slopes"] = json::array({number_or_rational(nd.act.neg), number_or_rational(nd.act.pos)});
    }
    out += (v == 0 ? "\n    " : ",\n    ") + j.dump();
  }
  out += net.num_nodes() == 0 ? "],\n  \"edges\": [" : "\n  ],\n  \"edges\": [";
  for (edge_id e = 0; e < net.num_edges(); ++e) {
    const edge& ed = net.edge_at(e);
    json j = {{"from", net.node_at(ed.from).id}, {"to", net.node_at(ed.to).id}};
    if (net.is_constant(e)) {
      j["constant"] = true;
      j["weight"] = number_or_rational(net.constant_value(e));
    } else if (net.has_weights()) {
      j["weight"] = net.has_exact_weights() ? number_or_rational(net.exact_weight(e)) : json(net.weight(e));
    }
    if (net.param(e) != npos) j["param"] = net.param_names()[net.param(e)];
    out += (e == 0 ? "\n    " : ",\n    ") + j.dump();
  }
  out += net.num_edges() == 0 ? "]" : "\n  ]";
  for (const auto& [key, value] : extra) out += ",\n  " + json(key).dump() + ": " + value;
  out += "\n}\n";
  return out;
}

void write_file_atomic(const std::string& path, std::string_view contents) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / fmt::format(".{}.tmpXXXXXX", target.filename().string())).string();
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) throw error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  std::size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(name.data());
      throw error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(name.data());
    throw error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
  ::chmod(name.data(), 0644);
  if (std::rename(name.data(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(name.data());
    throw error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
  }
}

}  // namespace scaleinv
