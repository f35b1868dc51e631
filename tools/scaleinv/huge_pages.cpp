// huge_pages.cpp: the executables' global operator new / delete, with large blocks on transparent huge pages.
//
// Why: building and analysing a network of ten million edges allocates a few hundred MiB in a
// handful of large vectors. With 4 KiB pages every first touch of a page is a fault, and on this
// project's (virtualised) machines the faults cost about as much as the whole computation. Blocks of
// at least 4 MiB are therefore served from their own anonymous mapping, aligned to 2 MiB and marked
// MADV_HUGEPAGE, so the kernel backs them with 2 MiB pages (one fault instead of 512); smaller
// blocks come from malloc as before.
//
// Linked into the executables only (the CLI, bench/analyze_phases), never into the library: a
// library must not replace operator new for the programs that use it. Off under the sanitizers,
// which bring their own allocator (CMake leaves this file out of SCALEINV_SANITIZE builds; the
// preprocessor test below is a second guard).
//
// Every block, small or large, carries a 16-byte header just before the pointer returned: how far
// back the start of the underlying allocation is, and the length of the mapping (0 for a malloc
// block). Every operator delete reads it, so a block is freed the way it was allocated whichever
// overload frees it.
#if defined(__SANITIZE_ADDRESS__)
#define SCALEINV_NO_HUGE_PAGES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define SCALEINV_NO_HUGE_PAGES 1
#endif
#endif

#if !defined(SCALEINV_NO_HUGE_PAGES) && defined(__linux__)

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t huge_page = std::size_t{2} << 20;  // 2 MiB, the x86-64 transparent huge page
constexpr std::size_t mmap_threshold = std::size_t{4} << 20;

struct header {
  std::size_t offset;  // from the start of the allocation (malloc's or the mapping's) to the user's pointer
  std::size_t length;  // of the mapping; 0 for a block from malloc
};
static_assert(sizeof(header) == 16);

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

header* header_of(void* p) { return static_cast<header*>(p) - 1; }

// The header's room in front of the user's pointer: a multiple of the alignment, at least 16 bytes.
std::size_t front(std::size_t align) { return align > sizeof(header) ? align : sizeof(header); }

// One mapping of round_up(front + size, 2 MiB) bytes starting on a boundary of max(2 MiB, align).
void* map_block(std::size_t size, std::size_t align) {
  if (align > PTRDIFF_MAX / 8) return nullptr;
  const std::size_t lead = front(align);
  const std::size_t boundary = align > huge_page ? align : huge_page;
  if (size > PTRDIFF_MAX - lead - 2 * boundary) return nullptr;
  const std::size_t length = round_up(lead + size, huge_page);
  const std::size_t reserve = length + boundary;  // room to slide the start to the boundary
  void* raw = mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t base = round_up(start, boundary);
  if (base > start) munmap(raw, base - start);
  if (start + reserve > base + length) munmap(reinterpret_cast<void*>(base + length), start + reserve - base - length);
  madvise(reinterpret_cast<void*>(base), length, MADV_HUGEPAGE);  // advice only: 4 KiB pages if refused
  void* p = reinterpret_cast<void*>(base + lead);
  *header_of(p) = {lead, length};
  return p;
}

void* malloc_block(std::size_t size, std::size_t align) {
  if (align > PTRDIFF_MAX / 8) return nullptr;
  const std::size_t lead = front(align);
  if (size > PTRDIFF_MAX - lead) return nullptr;  // no object is larger (and GCC then sees malloc's bound)
  void* raw = nullptr;
  if (align <= alignof(std::max_align_t)) {
    raw = std::malloc(lead + size);
  } else if (posix_memalign(&raw, align, lead + size) != 0) {
    raw = nullptr;
  }
  if (raw == nullptr) return nullptr;
  void* p = static_cast<char*>(raw) + lead;
  *header_of(p) = {lead, 0};
  return p;
}

void* try_allocate(std::size_t size, std::size_t align) {
  if (size >= mmap_threshold) {
    if (void* p = map_block(size, align)) return p;
  }
  return malloc_block(size, align);
}

// operator new's contract: retry through the new-handler, throw std::bad_alloc when there is none.
void* allocate(std::size_t size, std::size_t align) {
  if (size == 0) size = 1;
  for (;;) {
    if (void* p = try_allocate(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* allocate_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return allocate(size, align);
  } catch (...) { return nullptr; }
}

void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  const header h = *header_of(p);
  void* start = static_cast<char*>(p) - h.offset;
  if (h.length != 0) munmap(start, h.length);
  else std::free(start);
}

constexpr std::size_t plain = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
std::size_t to_size(std::align_val_t a) { return static_cast<std::size_t>(a); }

}  // namespace

void* operator new(std::size_t n) { return allocate(n, plain); }
void* operator new[](std::size_t n) { return allocate(n, plain); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate_nothrow(n, plain); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate_nothrow(n, plain); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, to_size(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, to_size(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_nothrow(n, to_size(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_nothrow(n, to_size(a));
}

void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }

#endif
