// tools/scaleinv/cmd_convert.cpp: `scaleinv convert NET --to json|dot`.
#include <memory>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/dot.hpp"
#include "scaleinv/io/load.hpp"
#include "scaleinv/io/network_json.hpp"

namespace scaleinv::cli {
namespace {
struct convert_options {
  std::string net;
  std::string to = "json";
  std::string output;
  bool basis = false;
  bool json = false;
};
}  // namespace

action add_convert(CLI::App& app) {
  auto o = std::make_shared<convert_options>();
  app.add_option("NET", o->net, kNetHelp)->required();
  app.add_option("--to", o->to, "output format: json (scaleinv.network) or dot (Graphviz); default json")
      ->check(CLI::IsMember({"json", "dot"}));
  app.add_option("-o,--output", o->output, "write to this file (atomically) instead of standard output");
  app.add_flag("--basis", o->basis, "dot: mark the basis (skeleton edges blue, free edges red with B<i>, dead grey)");
  app.add_flag("--json", o->json, "same as --to json");
  app.footer("Example: scaleinv convert mlp:3-4-2,bias --to dot --basis -o net.dot && dot -Tpng net.dot -o net.png");
  return [o](std::ostream& out) {
    if (o->json) o->to = "json";
    if (o->basis && o->to != "dot") throw invalid_argument("--basis applies to --to dot only");
    network net = load_network(o->net);
    emit(out, o->output, o->to == "dot" ? write_dot(net, o->basis) : write_network_json(net));
    return 0;
  };
}

}  // namespace scaleinv::cli
