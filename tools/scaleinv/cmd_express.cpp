// tools/scaleinv/cmd_express.cpp: `scaleinv express NET --path a,b,c`.
#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/results_json.hpp"
#include "scaleinv/paths/express.hpp"

namespace scaleinv::cli {
namespace {
struct express_options {
  std::string net;
  std::string path;
  bool json = false;
  std::string skeleton = "diagonal";
};

std::vector<edge_id> parse_path(const std::string& text) {
  std::vector<edge_id> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    std::string_view item(text.data() + start, (comma == std::string::npos ? text.size() : comma) - start);
    std::uint32_t e = 0;
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), e);
    if (item.empty() || ec != std::errc{} || ptr != item.data() + item.size())
      throw invalid_argument(fmt::format("--path: '{}' is not an edge index (expected a list such as 0,4,7)", item));
    out.push_back(e);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}
}  // namespace

action add_express(CLI::App& app) {
  auto o = std::make_shared<express_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_option("--path", o->path, "the path as comma-separated edge indices, source to sink: 0,4,7")->required();
  app.add_flag("--json", o->json, "print JSON: {\"path\", \"coefficients\": [{\"basis\", \"exponent\"}, ...]}");
  app.add_option("--skeleton", o->skeleton,
                 "the basis's skeleton, as for `scaleinv basis`: diagonal (default) or first")
      ->check(CLI::IsMember({"diagonal", "first"}));
  app.footer(
      "value(path) = prod_i value(B_i)^exponent_i for every setting of the weights (math.md section 4).\n"
      "When the network has weights, the identity is also checked in exact rational arithmetic.");
  return [o](std::ostream& out) {
    std::vector<edge_id> path = parse_path(o->path);
    network net = load_network(o->net);
    path_expression x = express(net, path, parse_skeleton(o->skeleton));
    if (o->json) {
      out << expression_json(x, o->net).dump() << "\n";
    } else {
      std::string terms;
      for (const auto& c : x.coordinates)
        terms += fmt::format("{}B{}^{}", terms.empty() ? "" : " * ", c.basis, c.exponent);
      out << fmt::format("path {} = {}  ({} skeleton)\n", o->path, terms.empty() ? "1" : terms, to_string(x.skeleton));
      if (x.checked && x.reconstructed)
        out << fmt::format("value {} = product {} ({})\n", to_string(x.value), to_string(*x.reconstructed),
                           x.values_agree() ? "exact match" : "MISMATCH");
      else if (x.checked)
        out << fmt::format("value {}; a basis path in the product has value 0, so the product is undefined\n",
                           to_string(x.value));
    }
    return 0;
  };
}

}  // namespace scaleinv::cli
