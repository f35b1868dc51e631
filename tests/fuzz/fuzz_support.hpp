// tests/fuzz/fuzz_support.hpp: what the fuzz targets share: what counts as a finding, and scratch
// files for the readers that take a path (docs/fuzzing.md).
#pragma once

#include <cxxabi.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <typeinfo>

#include "scaleinv/error.hpp"

namespace scaleinv::fuzz {

/// A finding: says what went wrong on stderr and aborts, so that libFuzzer reports the input and
/// saves it as crash-<sha1>.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== scaleinv fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string type_name(const std::exception& e) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status),
                                              std::free);
  return status == 0 && name ? name.get() : typeid(e).name();
}

/// Runs f on one input. scaleinv::error is the expected rejection of bad input: a message fit for
/// a user, which must not be empty. Anything else is a finding: std::bad_alloc (a size taken from
/// the input was not bounded before allocating; the readers must refuse it with a message),
/// std::out_of_range, std::invalid_argument, nlohmann::json's exceptions (a missing check), or an
/// exception not derived from std::exception. Crashes, sanitizer reports, timeouts (-timeout) and
/// single allocations past -malloc_limit_mb are findings that libFuzzer reports by itself.
template <class F>
void expect_only_scaleinv_errors(F&& f) {
  try {
    f();
  } catch (const scaleinv::error& e) {
    if (std::string_view(e.what()).empty()) finding("a scaleinv::error with an empty message");
  } catch (const std::bad_alloc& e) {
    finding(std::string("std::bad_alloc: a size taken from the input is not bounded (") + e.what() + ")");
  } catch (const std::exception& e) {
    finding("an exception other than scaleinv::error: " + type_name(e) + ": " + e.what());
  } catch (...) { finding("an exception not derived from std::exception"); }
}

/// A step that must succeed whatever the input, such as reading back what the library itself
/// wrote: any exception is a finding.
template <class F>
auto must(const char* step, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) { finding(std::string(step) + " threw " + type_name(e) + ": " + e.what()); }
}

/// A file that holds the current input, for the readers that take a path. Created under $TMPDIR
/// (else /tmp) on first use and removed at exit; the CI driver points TMPDIR at a directory it
/// deletes, so a crash leaves nothing behind either.
class scratch_file {
 public:
  explicit scratch_file(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/scaleinv-fuzz-XXXXXX" + suffix;
    int fd = ::mkstemps(path_.data(), static_cast<int>(std::strlen(suffix)));
    if (fd < 0) {
      std::perror("scaleinv fuzz: cannot create a scratch file");
      std::exit(1);
    }
    ::close(fd);
  }
  ~scratch_file() { ::unlink(path_.c_str()); }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;

  /// Replaces the contents; returns the path.
  const std::string& write(const void* data, std::size_t size) {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
      std::perror("scaleinv fuzz: cannot write the scratch file");
      std::exit(1);
    }
    return path_;
  }
  const std::string& write(std::string_view text) { return write(text.data(), text.size()); }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

}  // namespace scaleinv::fuzz
