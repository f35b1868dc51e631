// tools/scaleinv/cmd_express.cpp: `scaleinv express NET --path a,b,c`.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <memory>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/exact/rational.hpp"
#include "scaleinv/graph/evaluate.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/paths/basis.hpp"

namespace scaleinv::cli {
namespace {
struct express_options {
  std::string net;
  std::string path;
  bool json = false;
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
  app.footer(
      "value(path) = prod_i value(B_i)^exponent_i for every setting of the weights (math.md section 4).\n"
      "When the network has weights, the identity is also checked in exact rational arithmetic.");
  return [o](std::ostream& out) {
    std::vector<edge_id> path = parse_path(o->path);
    network net = load_network(o->net);
    active_subgraph active = find_active(net);
    path_basis basis = make_basis(net, active);
    auto coords = path_coordinates(net, basis, path);
    nlohmann::json j = {{"network", o->net}, {"path", path}, {"coefficients", nlohmann::json::array()}};
    for (const auto& c : coords) j["coefficients"].push_back({{"basis", c.basis}, {"exponent", c.exponent}});
    std::string check;
    if (net.has_weights()) {
      auto w = net.exact_weights();
      std::span<const mpq_class> ws(w);
      mpq_class value = path_value(ws, std::span<const edge_id>(path)), product = 1;
      bool defined = true;
      for (const auto& c : coords) {
        mpq_class b = path_value(ws, std::span<const edge_id>(basis_path(net, basis, c.basis)));
        if (b == 0) {
          defined = false;
          break;
        }
        mpz_class num = b.get_num(), den = b.get_den();
        unsigned long k = static_cast<unsigned long>(c.exponent < 0 ? -c.exponent : c.exponent);
        mpz_pow_ui(num.get_mpz_t(), num.get_mpz_t(), k);
        mpz_pow_ui(den.get_mpz_t(), den.get_mpz_t(), k);
        product *= c.exponent > 0 ? make_rational(num, den) : make_rational(den, num);
      }
      j["value"] = to_string(value);
      if (defined) {
        j["reconstructed"] = to_string(product);
        j["values_agree"] = product == value;
        check = fmt::format("value {} = product {} ({})\n", to_string(value), to_string(product),
                            product == value ? "exact match" : "MISMATCH");
      } else {
        j["reconstructed"] = nullptr;
        check = fmt::format("value {}; a basis path in the product has value 0, so the product is undefined\n",
                            to_string(value));
      }
    }
    if (o->json) {
      out << j.dump() << "\n";
    } else {
      std::string terms;
      for (const auto& c : coords) terms += fmt::format("{}B{}^{}", terms.empty() ? "" : " * ", c.basis, c.exponent);
      out << fmt::format("path {} = {}\n", o->path, terms.empty() ? "1" : terms) << check;
    }
    return 0;
  };
}

}  // namespace scaleinv::cli
