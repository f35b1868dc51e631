// tests/main.cpp: the Catch2 runner.
#define CATCH_CONFIG_MAIN
#include "catch_shim.hpp"
