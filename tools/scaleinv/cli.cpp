// tools/scaleinv/cli.cpp: parsing, dispatch, and the one place errors become messages and exit codes.
#include "cli.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <new>
#include <ostream>
#include <string>

#include "commands.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/network_json.hpp"
#include "scaleinv/version.hpp"

namespace scaleinv::cli {
namespace {

// Every subcommand, in the order of `scaleinv --help`: registration and the message for an unknown
// command both come from this table.
struct subcommand {
  const char* name;
  const char* about;
  action (*add)(CLI::App&);
};

constexpr subcommand kSubcommands[] = {
    {"analyze", "Report the path-space dimension E_on - H_on, with counts and diagnostics", add_analyze},
    {"basis", "List the basis paths (math.md section 4) as edge indices", add_basis},
    {"express", "Give a path's integer coordinates in the basis", add_express},
    {"verify", "Enumerate all paths and check the dimension by exact rank (small networks)", add_verify},
    {"convert", "Write a network as JSON or Graphviz DOT", add_convert},
    {"train", "Train the network with SGD (weights, weight norm or GmP) or G-SGD on a data set", add_train},
    {"equivalent", "Decide whether two weight settings of one graph are positive rescalings of each other",
     add_equivalent},
    {"rescale", "Rescale a network's hidden units by positive scales (same function, other weights)", add_rescale},
    {"balance", "Balance the hidden units for an L_p cost (synaptic balance): same function, least cost", add_balance},
    {"canonical", "Write the canonical form of a network's rescaling orbit (balanced for p = 2)", add_canonical},
    {"imbalance", "Report how far each layer (or unit) is from balance", add_imbalance},
    {"fdim", "Functional dimension: rank of the outputs' Jacobian on random inputs, beside the path dimension",
     add_fdim},
};

// "analyze, basis, ... or fdim".
std::string command_list() {
  std::string out;
  constexpr std::size_t n = std::size(kSubcommands);
  for (std::size_t i = 0; i < n; ++i)
    out += fmt::format("{}{}", i == 0 ? "" : i + 1 == n ? " or " : ", ", kSubcommands[i].name);
  return out;
}

}  // namespace

void emit(std::ostream& out, const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") out << text;
  else write_file_atomic(path, text);
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "scaleinv: the positive-scaling symmetry of ReLU networks. How many real degrees of freedom "
      "does an architecture have, and which paths are a basis of its path space?",
      "scaleinv"};
  const std::string version_line = fmt::format("scaleinv {}", version());
  app.set_version_flag("--version", version_line);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 done, 1 a check failed (verify) or not equivalent (equivalent), 2 usage error, 3 bad input, 4 out "
      "of memory, 5 internal error, 6 training diverged, 130 training interrupted.\n"
      "Run 'scaleinv COMMAND --help' for a command's options. Formats: docs/formats.md.");
  std::map<const CLI::App*, action> actions;
  for (const subcommand& c : kSubcommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.about);
    actions[sub] = c.add(*sub);
  }

  // Name what was typed when it is no subcommand (CLI11 would only say one is required).
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::none_of(actions.begin(), actions.end(), [&](const auto& a) { return a.first->get_name() == args[0]; })) {
    err << "scaleinv: error: unknown command '" << args[0] << "' (expected " << command_list()
        << ")\nRun 'scaleinv --help' for usage.\n";
    return usage;
  }
  if (!args.empty() && args[0].size() > 1 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help" &&
      args[0] != "--help-all" && args[0] != "--version") {
    err << "scaleinv: error: unknown option '" << args[0] << "' before the command (the top level knows --help and "
        << "--version)\nRun 'scaleinv --help' for usage.\n";
    return usage;
  }
  std::vector<const char*> argv{"scaleinv"};
  for (const auto& a : args) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp&) {
    const CLI::App* target = &app;
    for (const auto* sub : app.get_subcommands()) target = sub;
    out << target->help();
    return ok;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return ok;
  } catch (const CLI::CallForVersion&) {
    out << version_line << "\n";
    return ok;
  } catch (const CLI::ParseError& e) {
    err << "scaleinv: error: " << e.what() << "\nRun 'scaleinv --help' for usage.\n";
    return usage;
  }
  const CLI::App* chosen = app.get_subcommands().front();
  try {
    return actions.at(chosen)(out);
  } catch (const command_failure& e) {
    err << "scaleinv: error: " << e.what() << "\n";
    return e.code();
  } catch (const invalid_argument& e) {
    err << "scaleinv: error: " << e.what() << "\n";
    return usage;
  } catch (const error& e) {
    err << "scaleinv: error: " << e.what() << "\n";
    return bad_input;
  } catch (const std::bad_alloc&) {
    err << "scaleinv: error: out of memory\n";
    return no_memory;
  } catch (const std::exception& e) {
    err << "scaleinv: internal error: " << e.what() << "\n";
    return internal;
  }
}

}  // namespace scaleinv::cli
