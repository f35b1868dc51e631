// tools/scaleinv/cli.hpp: the scaleinv command line as a function, so tests can run it in-process.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace scaleinv::cli {

/// Exit codes: 0 the job was done; 1 a check ran and failed (verify); 2 usage error; 3 bad input
/// (a file or spec that cannot be read or is not a valid network); 4 out of memory; 5 an internal
/// error (a bug: please report it); 6 training diverged (the loss or a weight stopped being
/// finite; the last finite state was kept); 130 training interrupted by Ctrl-C (checkpoint written).
enum exit_code : int {
  ok = 0,
  check_failed = 1,
  usage = 2,
  bad_input = 3,
  no_memory = 4,
  internal = 5,
  diverged = 6,
  interrupted = 130
};

/// Runs `scaleinv args...` (args excludes the program name), writing results to out and
/// messages to err. Never throws, never exits the process.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace scaleinv::cli
