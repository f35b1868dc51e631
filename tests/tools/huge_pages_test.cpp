// tests/tools/huge_pages_test.cpp: the executables' operator new / delete (tools/scaleinv/huge_pages.cpp),
// linked into this test binary as into the CLI: every overload, small and large blocks, alignments.
#include "catch_shim.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {
constexpr std::size_t mib = std::size_t{1} << 20;

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Writes the first and last byte and reads them back: the whole block is usable.
void touch(void* p, std::size_t n) {
  if (n == 0) return;
  auto* c = static_cast<unsigned char*>(p);
  c[0] = 0x5a;
  c[n - 1] = 0xa5;
  REQUIRE(c[0] == (n == 1 ? 0xa5 : 0x5a));
  REQUIRE(c[n - 1] == 0xa5);
}

int handler_calls = 0;
void give_up() {
  ++handler_calls;
  std::set_new_handler(nullptr);  // the next failure throws
}
}  // namespace

TEST_CASE("operator new: small and large blocks, freed by every delete overload", "[huge_pages]") {
  const std::vector<std::size_t> sizes = {0, 1, 15, 16, 1000, 4 * mib - 1, 4 * mib, 4 * mib + 1, 9 * mib + 3};
  for (std::size_t n : sizes) {
    INFO("size " << n);
    void* a = ::operator new(n);
    REQUIRE(address(a) % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
    touch(a, n);
    if (n >= 4 * mib) REQUIRE(address(a) % (2 * mib) == 16);  // its own mapping, on a 2 MiB boundary
    ::operator delete(a);
    void* b = ::operator new[](n);
    touch(b, n);
    ::operator delete[](b, n);
    void* c = ::operator new(n, std::nothrow);
    REQUIRE(c != nullptr);
    touch(c, n);
    ::operator delete(c, std::nothrow);
    void* d = ::operator new[](n, std::nothrow);
    REQUIRE(d != nullptr);
    ::operator delete[](d, std::nothrow);
    void* e = ::operator new(n);
    ::operator delete(e, n);
  }
}

TEST_CASE("operator new: over-aligned blocks keep their alignment", "[huge_pages]") {
  for (std::size_t align : {std::size_t{32}, std::size_t{64}, std::size_t{4096}, 2 * mib, 4 * mib}) {
    for (std::size_t n : {std::size_t{1}, std::size_t{100}, 5 * mib}) {
      INFO("align " << align << ", size " << n);
      const auto al = static_cast<std::align_val_t>(align);
      void* a = ::operator new(n, al);
      REQUIRE(address(a) % align == 0);
      touch(a, n);
      ::operator delete(a, al);
      void* b = ::operator new[](n, al);
      REQUIRE(address(b) % align == 0);
      ::operator delete[](b, n, al);
      void* c = ::operator new(n, al, std::nothrow);
      REQUIRE(address(c) % align == 0);
      ::operator delete(c, al, std::nothrow);
      void* d = ::operator new[](n, al, std::nothrow);
      REQUIRE(address(d) % align == 0);
      ::operator delete[](d, al, std::nothrow);
      void* e = ::operator new(n, al);
      ::operator delete(e, n, al);
      void* f = ::operator new[](n, al);
      ::operator delete[](f, al);
    }
  }
}

TEST_CASE("operator new: an impossible size calls the new-handler, then throws, and nothrow returns null",
          "[huge_pages]") {
  // Past any object's size; volatile, so that GCC does not see the constant and warn about it.
  volatile std::size_t too_large = static_cast<std::size_t>(PTRDIFF_MAX) + 1;
  const std::size_t huge = too_large;
  REQUIRE(::operator new(huge, std::nothrow) == nullptr);
  REQUIRE(::operator new[](huge, std::align_val_t{64}, std::nothrow) == nullptr);
  handler_calls = 0;
  std::set_new_handler(give_up);
  REQUIRE_THROWS_AS(::operator new(huge), std::bad_alloc);
  REQUIRE(handler_calls == 1);
  REQUIRE(std::get_new_handler() == nullptr);
}

TEST_CASE("containers grow through both paths and keep their contents", "[huge_pages]") {
  std::vector<std::uint32_t> v;
  for (std::uint32_t i = 0; i < 3'000'000; ++i) v.push_back(i);  // 12 MB: its last buffers are mappings
  for (std::uint32_t i = 0; i < v.size(); i += 99'991) REQUIRE(v[i] == i);
  std::vector<std::uint32_t> copy = v;
  v.clear();
  v.shrink_to_fit();
  REQUIRE(copy.back() == 2'999'999);
  std::vector<std::string> words(1000, std::string(40, 'w'));
  REQUIRE(words[999] == std::string(40, 'w'));
}
