// tools/scaleinv/commands.hpp: what each subcommand file provides to cli.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>

namespace scaleinv::cli {

/// A registered subcommand's action: writes to out, returns an exit code, may throw
/// scaleinv::error (mapped to exit codes by run()).
using action = std::function<int(std::ostream& out)>;

/// The NET argument's help text, shared by every subcommand.
inline constexpr const char* kNetHelp =
    "the network: a scaleinv.network JSON file, or a spec: mlp:784-500-10[,bias][,act=A][,init=S], "
    "skip:8-16-16-4[,span=K][,bias][,act=A], random:seed=S,inputs=I,hidden=H,outputs=O,p=P[,bias][,tanh=F], "
    "conv:len=L,ch=C0-C1-...,k=K[,bias] (weights shared across positions), "
    "example:demo, example:mixed (see docs/formats.md)";

/// Rejects "-1" for unsigned options (CLI11 2.1 would wrap it to 2^64 - 1) with a short message.
inline CLI::Validator non_negative() {
  return CLI::Validator(
      [](std::string& s) {
        return !s.empty() && s[0] == '-' ? std::string("must be a non-negative integer") : std::string();
      },
      "N>=0");
}

action add_analyze(CLI::App& app);
action add_basis(CLI::App& app);
action add_express(CLI::App& app);
action add_verify(CLI::App& app);
action add_convert(CLI::App& app);
action add_train(CLI::App& app);
action add_equivalent(CLI::App& app);
action add_rescale(CLI::App& app);
action add_fdim(CLI::App& app);
action add_balance(CLI::App& app);
action add_canonical(CLI::App& app);
action add_imbalance(CLI::App& app);

/// A command that ran but must end with a failure code other than those of scaleinv::error (for
/// example, training that diverged): run() prints "scaleinv: error: " + what() and exits with code.
class command_failure : public std::runtime_error {
 public:
  command_failure(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

/// Writes text to `path` atomically, or to out when path is empty or "-".
void emit(std::ostream& out, const std::string& path, const std::string& text);

}  // namespace scaleinv::cli
