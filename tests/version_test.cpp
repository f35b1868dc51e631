// tests/version_test.cpp: the version is CMake's project(VERSION), once: the library reports it and
// `scaleinv --version` prints it.
#include "catch_shim.hpp"

#include <string>

#include "cli/cli_support.hpp"
#include "scaleinv/version.hpp"

TEST_CASE("version: project(VERSION) in the library and in --version", "[version][cli]") {
  CHECK(scaleinv::version() == SCALEINV_PROJECT_VERSION);
  const scaleinv::test::cli_result r = scaleinv::test::run({"--version"});
  CHECK(r.code == 0);
  CHECK(r.out == "scaleinv " + std::string(scaleinv::version()) + "\n");
  CHECK(r.err.empty());
}
