// tests/catch_shim.hpp: the one include of Catch2 (Debian ships 2.13), so a move to v3 touches one file.
#pragma once
#include <catch2/catch.hpp>
