// tools/scaleinv/main.cpp: the scaleinv executable.
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  return scaleinv::cli::run(args, std::cout, std::cerr);
}
