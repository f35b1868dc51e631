// scaleinv/version.hpp: the library's version, set once by CMake's project(VERSION).
#pragma once

#include <string_view>

namespace scaleinv {

/// "MAJOR.MINOR.PATCH", the VERSION of project() in the top CMakeLists.txt (written into the
/// library when it is configured: lib/src/version.cpp.in).
std::string_view version() noexcept;

}  // namespace scaleinv
