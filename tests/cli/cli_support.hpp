// tests/cli/cli_support.hpp: test helpers: scaleinv::cli::run in-process, checks of its output, temporary directories.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

#include "catch_shim.hpp"
#include "cli.hpp"
#include "support.hpp"

namespace scaleinv::test {

/// What one in-process run of the command line did.
struct cli_result {
  int code = -1;
  std::string out, err;
};

/// Runs `scaleinv args...` in-process, capturing its exit code, stdout and stderr.
inline cli_result run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  cli_result r;
  r.code = scaleinv::cli::run(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

/// The command line as typed: "scaleinv arg1 arg2 ...".
inline std::string joined(const std::vector<std::string>& args) {
  std::string s = "scaleinv";
  for (const auto& a : args) s += " " + a;
  return s;
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// The context a failed check reports: the command, its exit code, stdout and stderr.
inline std::string describe_run(const std::vector<std::string>& args, const cli_result& r) {
  return joined(args) + "\nexit " + std::to_string(r.code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

namespace detail {
inline nlohmann::json run_json(const std::vector<std::string>& args, int code, bool newline_ended) {
  cli_result r = run(args);
  INFO(describe_run(args, r));
  REQUIRE(r.code == code);
  REQUIRE(r.err.empty());
  if (newline_ended) {
    REQUIRE(!r.out.empty());
    REQUIRE(r.out.back() == '\n');
  }
  nlohmann::json j;
  REQUIRE_NOTHROW(j = nlohmann::json::parse(r.out));
  return j;
}
}  // namespace detail

/// Runs a command that must exit with `code`, write nothing to stderr and print one JSON document,
/// which it returns.
inline nlohmann::json run_json(const std::vector<std::string>& args, int code = scaleinv::cli::ok) {
  return detail::run_json(args, code, false);
}

/// run_json for a command that must succeed, and whose stdout must also be non-empty and end in
/// a newline.
inline nlohmann::json run_json_line(const std::vector<std::string>& args) {
  return detail::run_json(args, scaleinv::cli::ok, true);
}

/// Whether require_error checks that stderr starts with "scaleinv: error: ".
enum class error_prefix { checked, unchecked };

/// Runs a command that must fail: exit `code`, nothing on stdout, and on stderr
/// "scaleinv: error: ..." containing `message_part`.
inline void require_error(const std::vector<std::string>& args, int code, const std::string& message_part,
                          error_prefix prefix = error_prefix::checked) {
  cli_result r = run(args);
  INFO(describe_run(args, r));
  CHECK(r.code == code);
  CHECK(r.out.empty());
  if (prefix == error_prefix::checked) CHECK(starts_with(r.err, "scaleinv: error: "));
  CHECK(contains(r.err, message_part));
}

/// A usage error: exit 2.
inline void require_usage_error(const std::vector<std::string>& args, const std::string& message_part,
                                error_prefix prefix = error_prefix::checked) {
  require_error(args, scaleinv::cli::usage, message_part, prefix);
}

/// Bad input: exit 3.
inline void require_bad_input(const std::vector<std::string>& args, const std::string& message_part) {
  require_error(args, scaleinv::cli::bad_input, message_part);
}

/// A fresh, empty directory under the system's temporary directory, removed with everything in
/// it at the end of the scope.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("scaleinv_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// The path of `name` in the directory, as a string.
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  /// Writes `text` to `name` in the directory; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return file(name);
  }
  /// The names of everything in the directory (hidden temporary files included), sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  std::filesystem::path path_;
};

/// One JSON document per non-empty line of text (a --json or JSON-lines log).
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(nlohmann::json::parse(l));
  return out;
}

/// args followed by more.
inline std::vector<std::string> plus(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// The whole file, bytes as they are ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace scaleinv::test
