// gzip.cpp: reading files that may be gzipped (zlib), for the IDX reader.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>

#include "dataset_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/network_json.hpp"

namespace scaleinv::detail {
namespace {

bool is_gzip(const std::string& bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

// Inflates every gzip member of `in` (gzip allows several, concatenated).
std::string gunzip(const std::string& in, const std::string& path) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw error(fmt::format("{}: cannot initialize zlib", path));
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&zs};

  std::string out;
  // The last four bytes (ISIZE) are the uncompressed size mod 2^32: a good first guess, but only
  // a claim. Deflate expands at most 1032:1, so a guess beyond that is a corrupt or forged ISIZE
  // (an 18-byte file would otherwise reserve 1 GiB before inflating a byte).
  std::size_t guess = 1 << 16;
  if (in.size() >= 18) {
    const auto* p = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    std::size_t isize = std::size_t{p[0]} | std::size_t{p[1]} << 8 | std::size_t{p[2]} << 16 | std::size_t{p[3]} << 24;
    guess = std::max(guess, std::min({isize, std::size_t{1} << 30, in.size() * 1032}));
  }
  out.resize(guess);

  const auto* src = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t consumed = 0, produced = 0;
  constexpr std::size_t kChunk = UINT_MAX;  // z_stream counts in uInt
  for (;;) {
    if (zs.avail_in == 0 && consumed < in.size()) {
      zs.next_in = const_cast<Bytef*>(src + consumed);
      zs.avail_in = static_cast<uInt>(std::min(kChunk, in.size() - consumed));
    }
    if (produced == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min(kChunk, out.size() - produced));
    uInt in_before = zs.avail_in, out_before = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_before - zs.avail_in;
    produced += out_before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == in.size()) break;
      if (in.size() - consumed >= 2 && static_cast<unsigned char>(in[consumed]) == 0x1f &&
          static_cast<unsigned char>(in[consumed + 1]) == 0x8b) {
        inflateReset(&zs);  // another gzip member follows
        continue;
      }
      throw parse_error(path, 0, 0,
                        fmt::format("{} bytes of trailing garbage after the gzip data", in.size() - consumed));
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && consumed == in.size())
      throw parse_error(path, 0, 0,
                        fmt::format("truncated gzip data: the stream ends after {} compressed bytes ({} uncompressed)",
                                    in.size(), produced));
    if (rc == Z_MEM_ERROR) throw std::bad_alloc();
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw parse_error(path, 0, 0,
                        fmt::format("corrupt gzip data: {}", zs.msg != nullptr ? zs.msg : "inflate failed"));
  }
  out.resize(produced);
  return out;
}

}  // namespace

// The file's bytes, decompressed when they start with the gzip magic 1f 8b.
std::string read_maybe_gzip(const std::string& path, bool& was_gzip) {
  std::string bytes = read_text_file(path);
  was_gzip = is_gzip(bytes);
  return was_gzip ? gunzip(bytes, path) : bytes;
}

}  // namespace scaleinv::detail
