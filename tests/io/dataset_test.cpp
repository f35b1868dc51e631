// tests/io/dataset_test.cpp: IDX (plain and gzipped, written here with zlib), CSV, the synthetic
// sets, load_data's specs, split and standardization, and Fashion-MNIST when it is installed.
#include "catch_shim.hpp"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "cli/cli_support.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/graph/builders.hpp"
#include "scaleinv/io/dataset.hpp"

namespace fs = std::filesystem;
using scaleinv::dataset;
using namespace scaleinv::test;

namespace {

using bytes = std::string;

void put_be32(bytes& b, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<char>((v >> shift) & 0xff));
}

// An IDX file of unsigned bytes: magic 0x000008NN, the dimensions, then the data.
bytes idx(const std::vector<std::uint32_t>& dims, const bytes& data, unsigned type = 0x08) {
  bytes b;
  put_be32(b, (type << 8) | static_cast<std::uint32_t>(dims.size()));
  for (auto d : dims) put_be32(b, d);
  return b + data;
}

// n images of rows x cols; pixel k of image i is (7 i + 13 k + 1) mod 256.
unsigned char pixel(std::size_t i, std::size_t k) { return static_cast<unsigned char>((7 * i + 13 * k + 1) % 256); }
bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  bytes data;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < std::size_t{rows} * cols; ++k) data.push_back(static_cast<char>(pixel(i, k)));
  return idx({n, rows, cols}, data);
}
bytes idx_labels(const std::vector<int>& labels) {
  bytes data;
  for (int l : labels) data.push_back(static_cast<char>(l));
  return idx({static_cast<std::uint32_t>(labels.size())}, data);
}

void write_plain(const std::string& path, const bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(b.data(), static_cast<std::streamsize>(b.size()));
  REQUIRE(out.good());
}

// Through zlib's gzip file interface; mode "ab" appends a second gzip member.
void write_gz(const std::string& path, const bytes& b, const char* mode = "wb") {
  gzFile f = gzopen(path.c_str(), mode);
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// The message of the parse_error that f throws.
template <class F>
std::string parse_error_of(F&& f) {
  try {
    f();
  } catch (const scaleinv::parse_error& e) { return e.what(); } catch (const std::exception& e) {
    FAIL("expected scaleinv::parse_error, got: " << e.what());
  }
  FAIL("expected scaleinv::parse_error, nothing was thrown");
  return {};
}

#define CHECK_MESSAGE(expr, part)                                 \
  do {                                                            \
    std::string message_ = parse_error_of([&] { (void)(expr); }); \
    INFO("message: " << message_);                                \
    CHECK(contains(message_, part));                              \
  } while (false)

void check_images(const dataset& d, std::size_t n, std::size_t features) {
  REQUIRE(d.size() == n);
  REQUIRE(d.features() == features);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < features; ++k)
      REQUIRE(d.x(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(i)) ==
              static_cast<double>(pixel(i, k)) / 255.0);
}

double mean_of(const Eigen::MatrixXd& x, Eigen::Index row) { return x.row(row).mean(); }
double std_of(const Eigen::MatrixXd& x, Eigen::Index row) {
  double m = mean_of(x, row);
  return std::sqrt((x.row(row).array() - m).square().mean());
}

}  // namespace

TEST_CASE("IDX files are read back exactly, plain or gzipped", "[dataset]") {
  temp_dir dir;
  const std::vector<int> labels = {2, 0, 1, 2, 1};
  write_plain(dir.file("img"), idx_images(5, 2, 3));
  write_plain(dir.file("lab"), idx_labels(labels));
  write_gz(dir.file("img.gz"), idx_images(5, 2, 3));
  write_gz(dir.file("lab.gz"), idx_labels(labels));

  SECTION("plain") {
    dataset d = scaleinv::read_idx(dir.file("img"), dir.file("lab"));
    check_images(d, 5, 6);
    CHECK(d.labels == labels);
    CHECK(d.classes == 3);
    CHECK(d.is_classification());
    CHECK(d.targets.size() == 0);
  }
  SECTION("gzipped, and mixed") {
    check_images(scaleinv::read_idx(dir.file("img.gz"), dir.file("lab.gz")), 5, 6);
    dataset d = scaleinv::read_idx(dir.file("img.gz"), dir.file("lab"));
    check_images(d, 5, 6);
    CHECK(d.labels == labels);
  }
  SECTION("gzip is detected by content, not by name") {
    fs::copy_file(dir.file("img.gz"), dir.file("images.idx"));  // gzip without .gz
    fs::copy_file(dir.file("lab"), dir.file("labels.gz"));      // plain with .gz
    dataset d = scaleinv::read_idx(dir.file("images.idx"), dir.file("labels.gz"));
    check_images(d, 5, 6);
    CHECK(d.labels == labels);
  }
  SECTION("a gzip file of two members (gzip allows concatenation)") {
    bytes whole = idx_images(5, 2, 3);
    write_gz(dir.file("two.gz"), whole.substr(0, 20));
    write_gz(dir.file("two.gz"), whole.substr(20), "ab");
    check_images(scaleinv::read_idx(dir.file("two.gz"), dir.file("lab")), 5, 6);
  }
  SECTION("more image dimensions, and a given class count") {
    bytes data;
    for (std::size_t i = 0; i < 5; ++i)
      for (std::size_t k = 0; k < 8; ++k) data.push_back(static_cast<char>(pixel(i, k)));
    write_plain(dir.file("img4"), idx({5, 2, 2, 2}, data));
    dataset d = scaleinv::read_idx(dir.file("img4"), dir.file("lab"), 10);
    check_images(d, 5, 8);
    CHECK(d.classes == 10);
  }
  SECTION("no images") {
    write_plain(dir.file("img0"), idx({0, 28, 28}, ""));
    write_plain(dir.file("lab0"), idx_labels({}));
    dataset d = scaleinv::read_idx(dir.file("img0"), dir.file("lab0"), 10);
    CHECK(d.size() == 0);
    CHECK(d.features() == 784);
  }
}

TEST_CASE("IDX errors name the file and what is wrong", "[dataset]") {
  temp_dir dir;
  const std::string img = dir.file("img"), lab = dir.file("lab");
  write_plain(img, idx_images(6, 2, 2));
  write_plain(lab, idx_labels({0, 1, 2, 3, 4, 5}));

  SECTION("wrong magic numbers: swapped files") {
    std::string m = parse_error_of([&] { scaleinv::read_idx(lab, img); });
    CHECK(m.rfind(lab + ": ", 0) == 0);
    CHECK(contains(m, "wrong magic number 0x00000801, expected 0x00000803 (an IDX image file)"));
    CHECK_MESSAGE(scaleinv::read_idx(img, img),
                  "wrong magic number 0x00000803, expected 0x00000801 (an IDX label file)");
  }
  SECTION("wrong magic numbers: not IDX, other data types") {
    write_plain(dir.file("text"), "hello, world\n");
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("text"), lab), "wrong magic number 0x68656c6c, expected 0x00000803");
    write_plain(dir.file("float"), idx({1, 1, 1}, bytes(4, '\0'), 0x0D));
    CHECK_MESSAGE(
        scaleinv::read_idx(dir.file("float"), lab),
        "magic number 0x00000d03: IDX data type 0x0d (32-bit float) is not supported, only unsigned bytes (0x08)");
  }
  SECTION("truncated data, plain and gzipped") {
    bytes b = idx({60000, 28, 28}, bytes(1234, '\x7f'));
    write_plain(dir.file("short"), b);
    std::string m = parse_error_of([&] { scaleinv::read_idx(dir.file("short"), lab); });
    CHECK(m == dir.file("short") +
                   ": truncated: header says 60000 images of 28x28 = 47040000 bytes, the file has 1234 after the "
                   "16-byte header");
    write_gz(dir.file("short.gz"), b);
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("short.gz"), lab),
                  "truncated: header says 60000 images of 28x28 = 47040000 bytes, the file has 1234 after the 16-byte "
                  "header (after decompression)");
    write_plain(dir.file("lab_short"), idx({7}, bytes(5, '\1')));
    CHECK_MESSAGE(scaleinv::read_idx(img, dir.file("lab_short")),
                  "truncated: header says 7 labels = 7 bytes, the file has 5 after the 8-byte header");
  }
  SECTION("truncated header, extra bytes") {
    write_plain(dir.file("tiny"), bytes("\0\0\x08", 3));
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("tiny"), lab), "truncated: 3 bytes, too short for an IDX header");
    write_plain(dir.file("head"), idx({6, 2, 2}, "").substr(0, 10));
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("head"), lab),
                  "truncated: 10 bytes, too short for the IDX header (16 bytes for 3 dimensions)");
    write_plain(dir.file("long"), read_file(img) + "xyz");
    CHECK_MESSAGE(
        scaleinv::read_idx(dir.file("long"), lab),
        "header says 6 images of 2x2 = 24 bytes, but the file has 27 after the 16-byte header (3 extra bytes)");
    write_plain(dir.file("zero"), idx({6, 0, 2}, ""));
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("zero"), lab), "image dimension 1 is 0 in the header");
    // 0 images of 4227858429x4294967293 pixels: the file length (0 bytes of data) cannot bound the
    // image size, which once reached Eigen as a negative row count (tests/fuzz/idx_fuzz.cpp, seed
    // tests/data/fuzz/idx/bad_zero_images_huge_pixels).
    write_plain(dir.file("huge"), idx({0, 0xfbfffffdU, 0xfffffffdU}, ""));
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("huge"), lab),
                  "images of 4227858429x4294967293 pixels are too large to address");
  }
  SECTION("broken gzip data") {
    write_gz(dir.file("img.gz"), idx_images(50, 4, 4));
    bytes gz = read_file(dir.file("img.gz"));
    write_plain(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("cut.gz"), lab), "truncated gzip data");
    bytes bad_crc = gz;
    bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0x55);
    write_plain(dir.file("crc.gz"), bad_crc);
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("crc.gz"), lab), "corrupt gzip data: incorrect data check");
    write_plain(dir.file("tail.gz"), gz + "junk");
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("tail.gz"), lab), "4 bytes of trailing garbage after the gzip data");
  }
  SECTION("counts that differ, labels out of range, missing files") {
    write_plain(dir.file("lab5"), idx_labels({0, 1, 2, 3, 4}));
    std::string m = parse_error_of([&] { scaleinv::read_idx(img, dir.file("lab5")); });
    CHECK(m == fmt::format("{}: 6 images in {} but 5 labels", dir.file("lab5"), img));
    write_plain(dir.file("lab12"), idx_labels({0, 1, 2, 3, 4, 12}));
    CHECK_MESSAGE(scaleinv::read_idx(img, dir.file("lab12"), 10), "label 12 at index 5 is out of range 0..9");
    CHECK(scaleinv::read_idx(img, dir.file("lab12")).classes == 13);  // no class count given: largest + 1
    CHECK_MESSAGE(scaleinv::read_idx(dir.file("nope"), lab), "nope: cannot open");
  }
}

TEST_CASE("a gzip file's claimed size (ISIZE) is not trusted for the output buffer", "[dataset]") {
  // ISIZE, the last four bytes, once sized the output buffer up to 1 GiB: a 30-byte file with a
  // forged ISIZE made read_idx zero-fill 1 GiB before inflating a byte (found by
  // tests/fuzz/idx_fuzz.cpp under -malloc_limit_mb; seed tests/data/fuzz/idx/bad_gzip_forged_isize).
  // The buffer now starts at no more than deflate's 1032:1 expansion of the input; the peak RSS of
  // this process is the measure (it only grows, so the check cannot pass by accident of timing).
  temp_dir dir;
  write_gz(dir.file("img.gz"), idx_images(1, 2, 2));
  bytes gz = read_file(dir.file("img.gz"));
  for (std::size_t i = gz.size() - 4; i < gz.size(); ++i) gz[i] = static_cast<char>(0xff);  // ISIZE 2^32 - 1
  write_plain(dir.file("forged.gz"), gz);
  write_plain(dir.file("lab"), idx_labels({0}));
  auto peak_mib = [] {
    rusage u{};
    REQUIRE(getrusage(RUSAGE_SELF, &u) == 0);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  };
  const double before = peak_mib();
  CHECK_MESSAGE(scaleinv::read_idx(dir.file("forged.gz"), dir.file("lab")),
                "corrupt gzip data: incorrect length check");
  INFO("peak RSS " << before << " MiB before, " << peak_mib() << " MiB after");
  CHECK(peak_mib() - before < 256);
}

TEST_CASE("CSV files: header, labels, targets, and file:line errors", "[dataset]") {
  temp_dir dir;
  auto csv = [&](const std::string& name, const std::string& text) {
    write_plain(dir.file(name), text);
    return dir.file(name);
  };

  SECTION("classification with a header, blanks, quotes, CRLF and blank lines") {
    std::string f = csv("c.csv", "a, \"b\" ,label\r\n1,2,0\r\n\r\n3, 4.5 ,2\n-1e3,+5,\"1\"\n\n");
    dataset d = scaleinv::read_csv(f, true);
    REQUIRE(d.size() == 3);
    REQUIRE(d.features() == 2);
    CHECK(d.classes == 3);
    CHECK(d.labels == std::vector<int>{0, 2, 1});
    Eigen::MatrixXd want(2, 3);
    want << 1, 3, -1000, 2, 4.5, 5;
    CHECK(d.x == want);
    CHECK(d.targets.size() == 0);
  }
  SECTION("regression without a header, two targets") {
    std::string f = csv("r.csv", "1,2,3,4\n5,6,7,8.25\n");
    dataset d = scaleinv::read_csv(f, false, 2);
    REQUIRE(d.size() == 2);
    REQUIRE(d.features() == 2);
    CHECK_FALSE(d.is_classification());
    CHECK(d.labels.empty());
    Eigen::MatrixXd x(2, 2), t(2, 2);
    x << 1, 5, 2, 6;
    t << 3, 7, 4, 8.25;
    CHECK(d.x == x);
    CHECK(d.targets == t);
  }
  SECTION("ragged rows") {
    std::string f = csv("rag.csv", "a,b,c,y\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,3,4\n\n1,2,3,4,5\n");
    std::string m = parse_error_of([&] { scaleinv::read_csv(f, false); });
    CHECK(m == f + ":7: has 5 fields, but line 1 has 4");
    CHECK_MESSAGE(scaleinv::read_csv(csv("rag2.csv", "1,2\n3\n"), true), "rag2.csv:2: has 1 fields, but line 1 has 2");
  }
  SECTION("fields that are not numbers, named by the header") {
    std::string f = csv("bad.csv", "x1,x2,y\n1,2,3\n4, abc,6\n");
    std::string m = parse_error_of([&] { scaleinv::read_csv(f, false); });
    CHECK(m == f + ":3:4: field 2 ('x2') is 'abc', not a finite number");
    CHECK_MESSAGE(scaleinv::read_csv(csv("nan.csv", "1,2,3\n1,nan,3\n"), false),
                  "nan.csv:2:3: field 2 is 'nan', not a finite number");
    CHECK_MESSAGE(scaleinv::read_csv(csv("empty.csv", "1,2,3\n4,,6\n"), false),
                  "empty.csv:2:3: field 2 is '', not a finite number");
    CHECK_MESSAGE(scaleinv::read_csv(csv("lab.csv", "a,b,class\n1,2,0\n3,4,2.5\n"), true),
                  "lab.csv:3:5: the label, field 3 ('class'), is '2.5', not a non-negative integer class");
    CHECK_MESSAGE(scaleinv::read_csv(csv("neg.csv", "1,2,-1\n"), true), "neg.csv:1:5: the label, field 3, is '-1'");
  }
  SECTION("too few columns, no rows") {
    CHECK_MESSAGE(scaleinv::read_csv(csv("one.csv", "1\n2\n"), true),
                  "one.csv:1: has 1 field: need at least one feature and the label");
    CHECK_MESSAGE(scaleinv::read_csv(csv("two.csv", "1,2\n"), false, 2),
                  "two.csv:1: has 2 fields: need at least one feature and 2 targets");
    CHECK_MESSAGE(scaleinv::read_csv(csv("head.csv", "a,b\n"), true), "head.csv: no data rows after the header");
    CHECK_MESSAGE(scaleinv::read_csv(csv("void.csv", "\n\n"), true), "void.csv: no data rows (the file is empty)");
    CHECK_MESSAGE(scaleinv::read_csv(dir.file("missing.csv"), true), "missing.csv: cannot open");
  }
}

// Issue 11 item 6: a first row with a bad value was taken for a header and dropped without a word.
// A first row is a header only when none of its fields reads as a number; NaN, infinities and
// numbers out of the range of a double are errors wherever they are, located by line and column.
TEST_CASE("CSV: a first row with a number is data, and NaN, inf, 1e400 are errors anywhere", "[dataset]") {
  temp_dir dir;
  auto csv = [&](const std::string& name, const std::string& text) {
    write_plain(dir.file(name), text);
    return dir.file(name);
  };
  const std::string rest = "1,2,0\n3,4,1\n2,2,0\n5,1,1\n";
  std::string f = csv("nan1.csv", "0.5,NaN,1\n" + rest);
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, true); }) == f + ":1:5: field 2 is 'NaN', not a finite number");
  f = csv("big1.csv", "0.5,1e400,1\n" + rest);
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, true); }) ==
        f + ":1:5: field 2 is '1e400', out of the range of a double");
  f = csv("tiny1.csv", "-1e-400, 2,1\n" + rest);
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, true); }) ==
        f + ":1:1: field 1 is '-1e-400', out of the range of a double");
  f = csv("inf1.csv", "x,inf,1\n" + rest);  // 'x' is text, but 'inf' reads as a number: data, not a header
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, true); }) == f + ":1:1: field 1 is 'x', not a finite number");
  // Later rows, named by the header.
  f = csv("inf3.csv", "a,b,y\n1,2,3\n4,-Infinity,6\n");
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, false); }) ==
        f + ":3:3: field 2 ('b') is '-Infinity', not a finite number");
  f = csv("big3.csv", "a,b,y\n1,2,3\n4,5,1.8e308\n");
  CHECK(parse_error_of([&] { scaleinv::read_csv(f, false); }) ==
        f + ":3:5: field 3 ('y') is '1.8e308', out of the range of a double");
  // A header stays a header, names and all; the largest double is a number like any other.
  f = csv("ok.csv", "a,b,label\n1.7976931348623157e308,4.9e-324,1\n" + rest);
  scaleinv::dataset d = scaleinv::read_csv(f, true);
  REQUIRE(d.size() == 5);
  CHECK(d.x(0, 0) == std::numeric_limits<double>::max());
  CHECK(d.x(1, 0) == std::numeric_limits<double>::denorm_min());
}

// Issue 11 item 6: every number in a data spec, out of range or not finite, is a parse_error naming
// the spec; and a huge but finite noise no longer standardizes to zeros (its squares overflowed).
TEST_CASE("data specs: numbers out of range are errors, and huge noise standardizes", "[dataset]") {
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,noise=1e400", 1),
                "data spec 'spirals:n=10,noise=1e400': noise '1e400' is out of the range of a double");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,noise=inf", 1),
                "data spec 'spirals:n=10,noise=inf': noise 'inf' is not finite");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,noise=nan", 1), "noise 'nan' is not a non-negative number");
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=10,in=2,classes=2,spread=1e-400", 1),
                "data spec 'blobs:n=10,in=2,classes=2,spread=1e-400': spread '1e-400' is out of the range of a double");
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=10,in=2,classes=2,spread=-inf", 1), "spread '-inf' is not finite");
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=10,in=99999999999999999999,classes=2", 1),
                "in '99999999999999999999' is too large");
  CHECK_MESSAGE(scaleinv::load_data("teacher:n=10,in=2,hidden=3,out=1,seed=99999999999999999999", 1),
                "seed '99999999999999999999' is too large");
  CHECK_MESSAGE(scaleinv::load_data("csv:x.csv,regression,targets=99999999999999999999", 1),
                "targets '99999999999999999999' is too large");
  CHECK_MESSAGE(scaleinv::load_data("idx:a,b,classes=1e3", 1), "classes '1e3' is not a non-negative integer");
  temp_dir dir;
  std::string text;  // columns of magnitude 1e300 and 1e-300: their squares leave the range of a double
  for (int i = 0; i < 50; ++i) text += fmt::format("{}e300,{}e-300,{}\n", (i * 7) % 13 - 6, (i * 5) % 11 + 1, i % 2);
  write_plain(dir.file("wide.csv"), text);
  for (const std::string& spec :
       {std::string("spirals:n=200,noise=1e300,seed=2"), std::string("blobs:n=200,in=3,classes=2,spread=1e300,seed=2"),
        "csv:" + dir.file("wide.csv")}) {
    INFO(spec);
    scaleinv::data_split s = scaleinv::load_data(spec, 1, 0.0);
    for (Eigen::Index row = 0; row < s.train.x.rows(); ++row) {
      CHECK(s.train.x.row(row).allFinite());
      CHECK(std::abs(mean_of(s.train.x, row)) < 1e-9);
      CHECK(std::abs(std_of(s.train.x, row) - 1.0) < 1e-9);
    }
  }
}

TEST_CASE("synthetic sets are reproducible from the seed", "[dataset]") {
  SECTION("teacher: shapes, and the targets of mlp:in-hidden-out,init=seed") {
    dataset a = scaleinv::make_teacher(50, 4, 6, 2, 11), b = scaleinv::make_teacher(50, 4, 6, 2, 11);
    dataset c = scaleinv::make_teacher(50, 4, 6, 2, 12);
    REQUIRE(a.x.rows() == 4);
    REQUIRE(a.x.cols() == 50);
    REQUIRE(a.targets.rows() == 2);
    REQUIRE(a.targets.cols() == 50);
    CHECK_FALSE(a.is_classification());
    CHECK(a.labels.empty());
    CHECK(a.x == b.x);
    CHECK(a.targets == b.targets);
    CHECK(a.x != c.x);

    scaleinv::mlp_options o;
    o.widths = {4, 6, 2};
    o.init_seed = 11;
    scaleinv::network net = scaleinv::make_mlp(o);
    REQUIRE(net.num_edges() == 4 * 6 + 6 * 2);
    Eigen::MatrixXd w1(6, 4), w2(2, 6);
    for (std::size_t e = 0; e < 24; ++e)
      w1(static_cast<Eigen::Index>(e / 4), static_cast<Eigen::Index>(e % 4)) = net.weight(e);
    for (std::size_t e = 0; e < 12; ++e)
      w2(static_cast<Eigen::Index>(e / 6), static_cast<Eigen::Index>(e % 6)) = net.weight(24 + e);
    Eigen::MatrixXd want = w2 * (w1 * a.x).cwiseMax(0.0);
    CHECK((a.targets - want).cwiseAbs().maxCoeff() < 1e-12);
    // Inputs ~ N(0, 1).
    CHECK(std::abs(a.x.mean()) < 0.3);
  }
  SECTION("spirals: two balanced classes in the plane") {
    dataset a = scaleinv::make_spirals(101, 0.05, 3), b = scaleinv::make_spirals(101, 0.05, 3);
    dataset c = scaleinv::make_spirals(101, 0.05, 4);
    REQUIRE(a.features() == 2);
    REQUIRE(a.size() == 101);
    CHECK(a.classes == 2);
    CHECK(std::count(a.labels.begin(), a.labels.end(), 0) == 51);
    CHECK(std::count(a.labels.begin(), a.labels.end(), 1) == 50);
    CHECK(a.x == b.x);
    CHECK(a.labels == b.labels);
    CHECK(a.x != c.x);
    dataset clean = scaleinv::make_spirals(200, 0.0, 3);
    for (Eigen::Index s = 0; s < clean.x.cols(); ++s) CHECK(clean.x.col(s).norm() < 1.0);
  }
  SECTION("blobs: shapes, class counts, spread") {
    dataset a = scaleinv::make_blobs(10, 3, 3, 0.5, 9), b = scaleinv::make_blobs(10, 3, 3, 0.5, 9);
    dataset c = scaleinv::make_blobs(10, 3, 3, 0.5, 10);
    REQUIRE(a.features() == 3);
    REQUIRE(a.size() == 10);
    CHECK(a.classes == 3);
    CHECK(std::count(a.labels.begin(), a.labels.end(), 0) == 4);
    CHECK(std::count(a.labels.begin(), a.labels.end(), 1) == 3);
    CHECK(std::count(a.labels.begin(), a.labels.end(), 2) == 3);
    CHECK(a.x == b.x);
    CHECK(a.x != c.x);
    dataset tight = scaleinv::make_blobs(9, 2, 3, 0.0, 9);  // spread 0: every sample sits on its centre
    for (Eigen::Index s = 3; s < 9; ++s) CHECK(tight.x.col(s) == tight.x.col(s % 3));
  }
  SECTION("bad arguments") {
    CHECK_THROWS_AS(scaleinv::make_teacher(10, 0, 2, 1, 1), scaleinv::invalid_argument);
    CHECK_THROWS_AS(scaleinv::make_spirals(10, -1.0, 1), scaleinv::invalid_argument);
    CHECK_THROWS_AS(scaleinv::make_blobs(10, 2, 0, 0.5, 1), scaleinv::invalid_argument);
    CHECK_THROWS_AS(scaleinv::make_blobs(10, 2, 2, NAN, 1), scaleinv::invalid_argument);
  }
}

TEST_CASE("load_data shuffles, splits and standardizes", "[dataset]") {
  SECTION("split sizes, train statistics, reproducibility") {
    scaleinv::data_split s = scaleinv::load_data("blobs:n=101,in=3,classes=4", 5, 0.2);
    REQUIRE(s.train.size() == 81);
    REQUIRE(s.test.size() == 20);
    CHECK(s.train.features() == 3);
    CHECK(s.test.features() == 3);
    CHECK(s.train.classes == 4);
    CHECK(s.test.classes == 4);
    CHECK(s.train.labels.size() == 81);
    CHECK(s.test.labels.size() == 20);
    CHECK(s.train.name == "blobs:n=101,in=3,classes=4");
    for (Eigen::Index f = 0; f < 3; ++f) {
      CHECK(std::abs(mean_of(s.train.x, f)) < 1e-12);
      CHECK(std::abs(std_of(s.train.x, f) - 1.0) < 1e-12);
    }
    // The union of the two sets is the generated set: 26 + 25 + 25 + 25 samples per class.
    std::vector<int> all = s.train.labels;
    all.insert(all.end(), s.test.labels.begin(), s.test.labels.end());
    CHECK(std::count(all.begin(), all.end(), 0) == 26);
    CHECK(std::count(all.begin(), all.end(), 3) == 25);

    scaleinv::data_split again = scaleinv::load_data("blobs:n=101,in=3,classes=4", 5, 0.2);
    CHECK(again.train.x == s.train.x);
    CHECK(again.test.labels == s.test.labels);
    scaleinv::data_split other = scaleinv::load_data("blobs:n=101,in=3,classes=4", 6, 0.2);
    CHECK(other.train.x != s.train.x);
  }
  SECTION("seed=S fixes the data while the load seed moves the shuffle") {
    auto sorted_first_feature = [](const scaleinv::data_split& s) {
      std::vector<double> v;
      for (Eigen::Index j = 0; j < s.train.x.cols(); ++j) v.push_back(s.train.x(0, j));
      std::sort(v.begin(), v.end());
      return v;
    };
    scaleinv::data_split a = scaleinv::load_data("spirals:n=40,noise=0.1,seed=3", 1, 0.0);
    scaleinv::data_split b = scaleinv::load_data("spirals:n=40,noise=0.1,seed=3", 2, 0.0);
    scaleinv::data_split c = scaleinv::load_data("spirals:n=40,noise=0.1", 1, 0.0);
    CHECK(a.test.size() == 0);
    CHECK(a.train.x != b.train.x);  // another order
    auto va = sorted_first_feature(a), vb = sorted_first_feature(b), vc = sorted_first_feature(c);
    REQUIRE(va.size() == vb.size());
    for (std::size_t i = 0; i < va.size(); ++i) CHECK(va[i] == Approx(vb[i]).margin(1e-12));
    CHECK(va != vc);
  }
  SECTION("a constant feature is only centred; the test set uses the train statistics") {
    temp_dir dir;
    std::string text = "a,b,c,y\n";
    for (int i = 0; i < 30; ++i) text += fmt::format("{},7,{},{}\n", i, (i * 37) % 11, i % 3);
    write_plain(dir.file("k.csv"), text);
    scaleinv::data_split s = scaleinv::load_data("csv:" + dir.file("k.csv"), 1, 0.3);
    REQUIRE(s.train.size() == 21);
    REQUIRE(s.test.size() == 9);
    CHECK(s.train.classes == 3);
    CHECK(s.train.x.row(1).cwiseAbs().maxCoeff() == 0.0);
    CHECK(s.test.x.row(1).cwiseAbs().maxCoeff() == 0.0);
    for (Eigen::Index f : {0, 2}) {
      CHECK(std::abs(mean_of(s.train.x, f)) < 1e-12);
      CHECK(std::abs(std_of(s.train.x, f) - 1.0) < 1e-12);
    }
    CHECK(std::abs(mean_of(s.test.x, 0)) > 1e-6);  // the test set is not standardized on its own
  }
  SECTION("regression: targets are kept as they are") {
    scaleinv::data_split s = scaleinv::load_data("teacher:n=50,in=3,hidden=5,out=2,seed=4", 9, 0.2);
    REQUIRE(s.train.size() == 40);
    REQUIRE(s.test.size() == 10);
    CHECK(s.train.targets.rows() == 2);
    CHECK(s.test.targets.cols() == 10);
    CHECK_FALSE(s.train.is_classification());
    dataset raw = scaleinv::make_teacher(50, 3, 5, 2, 4);
    double total = raw.targets.sum(), split_total = s.train.targets.sum() + s.test.targets.sum();
    CHECK(split_total == Approx(total).margin(1e-9));
  }
  SECTION("csv regression and idx specs") {
    temp_dir dir;
    std::string text;
    for (int i = 0; i < 10; ++i) text += fmt::format("{},{},{},{}\n", i, i * i, i + 1, -i);
    write_plain(dir.file("r.csv"), text);
    scaleinv::data_split r = scaleinv::load_data(fmt::format("csv:{},regression,targets=2", dir.file("r.csv")), 1, 0.2);
    CHECK(r.train.size() == 8);
    CHECK(r.train.features() == 2);
    CHECK(r.train.targets.rows() == 2);

    write_gz(dir.file("img.gz"), idx_images(20, 3, 3));
    std::vector<int> labels;
    for (int i = 0; i < 20; ++i) labels.push_back(i % 4);
    write_plain(dir.file("lab"), idx_labels(labels));
    scaleinv::data_split s =
        scaleinv::load_data(fmt::format("idx:{},{},classes=5", dir.file("img.gz"), dir.file("lab")), 1, 0.25);
    CHECK(s.train.size() == 15);
    CHECK(s.test.size() == 5);
    CHECK(s.train.features() == 9);
    CHECK(s.train.classes == 5);
  }
  SECTION("fashion-mnist:DIR with plain and .gz files") {
    temp_dir dir;
    std::vector<int> labels = {9, 0, 3, 5};
    write_gz(dir.file("train-images-idx3-ubyte.gz"), idx_images(4, 28, 28));
    write_plain(dir.file("train-labels-idx1-ubyte"), idx_labels(labels));
    write_plain(dir.file("t10k-images-idx3-ubyte"), idx_images(2, 28, 28));
    write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_labels({1, 2}));
    scaleinv::data_split s = scaleinv::load_data("fashion-mnist:" + dir.path().string(), 1);
    CHECK(s.train.size() == 4);  // its own split: no test fraction taken
    CHECK(s.test.size() == 2);
    CHECK(s.train.features() == 784);
    CHECK(s.train.classes == 10);
    CHECK(s.train.labels == labels);                                       // not shuffled
    write_plain(dir.file("t10k-labels-idx1-ubyte"), idx_labels({1, 12}));  // the plain name wins
    CHECK_MESSAGE(scaleinv::load_data("fashion-mnist:" + dir.path().string(), 1),
                  "label 12 at index 1 is out of range 0..9");
  }
}

TEST_CASE("load_data spec errors", "[dataset]") {
  temp_dir dir;
  CHECK_MESSAGE(scaleinv::load_data("nope:1", 1),
                "data spec 'nope:1': unknown data kind 'nope' (expected fashion-mnist");
  CHECK_MESSAGE(scaleinv::load_data("mnist", 1), "unknown data kind 'mnist'");
  CHECK_MESSAGE(scaleinv::load_data("spirals", 1), "spirals needs options, e.g. spirals:n=1000");
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=10,in=2", 1), "data spec 'blobs:n=10,in=2': blobs needs classes=...");
  CHECK_MESSAGE(scaleinv::load_data("teacher:n=10", 1), "teacher needs in=..., hidden=..., out=...");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,foo=1", 1),
                "unknown option 'foo=1' for spirals (expected n=..., noise=..., seed=...)");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=x", 1), "n 'x' is not a non-negative integer");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=0", 1), "n must be at least 1");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,noise=-1", 1), "noise '-1' is not a non-negative number");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,n=20", 1), "option 'n' is given twice");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=10,", 1), "empty option (a stray comma?)");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n", 1), "option 'n' needs a value (n=...)");
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=10,in=2,classes=3,spread=wide", 1),
                "spread 'wide' is not a non-negative number");
  CHECK_MESSAGE(scaleinv::load_data("csv:", 1), "expected csv:PATH[,regression[,targets=K]]");
  CHECK_MESSAGE(scaleinv::load_data("csv:x.csv,targets=2", 1), "targets=K applies to regression CSVs only");
  CHECK_MESSAGE(scaleinv::load_data("csv:x.csv,label", 1), "unknown option 'label' for csv");
  CHECK_MESSAGE(scaleinv::load_data("csv:" + dir.file("none.csv"), 1), "none.csv: cannot open");
  CHECK_MESSAGE(scaleinv::load_data("idx:a", 1), "expected idx:IMAGES,LABELS[,classes=C]");
  CHECK_MESSAGE(scaleinv::load_data("idx:a,b,classes=300", 1), "classes=300 is more than an IDX label byte can name");
  CHECK_MESSAGE(scaleinv::load_data("fashion-mnist:", 1), "expected a directory after 'fashion-mnist:'");
  {
    std::string m = parse_error_of([&] { scaleinv::load_data("fashion-mnist:" + dir.file("absent"), 1); });
    CHECK(contains(m, "absent does not exist"));
    CHECK(contains(m, "the Debian package dataset-fashion-mnist provides"));
  }
  {
    std::string m = parse_error_of([&] { scaleinv::load_data("fashion-mnist:" + dir.path().string(), 1); });
    CHECK(contains(m, "train-images-idx3-ubyte not found, nor train-images-idx3-ubyte.gz"));
    CHECK(contains(m, "dataset-fashion-mnist"));
  }
  CHECK_THROWS_AS(scaleinv::load_data("spirals:n=10", 1, 1.0), scaleinv::invalid_argument);
  CHECK_THROWS_AS(scaleinv::load_data("spirals:n=10", 1, -0.1), scaleinv::invalid_argument);
  CHECK_THROWS_WITH(scaleinv::load_data("spirals:n=1", 1, 0.6),
                    Catch::Contains("a test fraction of 0.6 of 1 samples leaves no training samples"));
}

TEST_CASE("standardization of features past 1e154 is finite and exact in scale", "[dataset]") {
  // The squared deviations overflowed: blobs with spread 2.1e307 (now refused, below; found by tests/fuzz/
  // data_spec_fuzz.cpp; seed tests/data/fuzz/data_spec/huge_spread) and a CSV of 1e300s became NaN.
  temp_dir dir;
  write_plain(dir.file("big.csv"), "1e300,-3e300,0\n2e300,5e300,1\n-1e300,1e300,0\n4e300,-2e300,1\n");
  for (const std::string& spec :
       {std::string("blobs:n=20,in=13,classes=4,spread=1e300,seed=1"), "csv:" + dir.file("big.csv")}) {
    INFO(spec);
    const scaleinv::data_split s = scaleinv::load_data(spec, 1, 0.0);
    REQUIRE(s.train.x.allFinite());
    for (Eigen::Index i = 0; i < s.train.x.rows(); ++i) {
      CHECK(std::abs(mean_of(s.train.x, i)) < 1e-12);
      CHECK(std::abs(std_of(s.train.x, i) - 1.0) < 1e-12);
    }
  }
  // A spread or noise that makes infinite samples is refused (blobs spread=1.21e308 did; seed
  // tests/data/fuzz/data_spec/too_large_spread).
  CHECK_MESSAGE(scaleinv::load_data("blobs:n=40,in=17,classes=4,spread=1.21e308,seed=1", 1),
                "the spread must be at most 1e300");
  CHECK_MESSAGE(scaleinv::load_data("spirals:n=40,noise=1.21e308", 1), "the noise must be at most 1e300");
  CHECK(scaleinv::load_data("blobs:n=40,in=17,classes=4,spread=1e300,seed=1", 1).train.x.allFinite());
  // The scale is a power of two: the same numbers divided by 2^900 standardize identically.
  write_plain(dir.file("small.csv"),
              fmt::format("{},{},0\n{},{},1\n{},{},0\n{},{},1\n", std::ldexp(1e300, -900), std::ldexp(-3e300, -900),
                          std::ldexp(2e300, -900), std::ldexp(5e300, -900), std::ldexp(-1e300, -900),
                          std::ldexp(1e300, -900), std::ldexp(4e300, -900), std::ldexp(-2e300, -900)));
  CHECK(scaleinv::load_data("csv:" + dir.file("big.csv"), 1, 0.0).train.x ==
        scaleinv::load_data("csv:" + dir.file("small.csv"), 1, 0.0).train.x);
}

TEST_CASE("parse_data_spec reads a spec without loading it, and load_data loads the parsed spec alike", "[dataset]") {
  scaleinv::data_spec d = scaleinv::parse_data_spec("teacher:n=30,in=4,hidden=5,out=2,seed=9");
  CHECK(d.text == "teacher:n=30,in=4,hidden=5,out=2,seed=9");
  CHECK(d.kind == "teacher");
  CHECK((d.n == 30 && d.in == 4 && d.hidden == 5 && d.out == 2));
  CHECK(d.seed == std::uint64_t{9});
  CHECK_FALSE(d.reads_files());
  CHECK(d.planned_values() == 30 * 6 + 5 * 6 + 30 * 5);
  for (const char* spec :
       {"teacher:n=30,in=4,hidden=5,out=2,seed=9", "spirals:n=25,noise=0.1", "blobs:n=20,in=3,classes=4,spread=0.2"}) {
    INFO(spec);
    scaleinv::data_split a = scaleinv::load_data(spec, 3, 0.2),
                         b = scaleinv::load_data(scaleinv::parse_data_spec(spec), 3, 0.2);
    CHECK(a.train.x == b.train.x);
    CHECK(a.test.x == b.test.x);
    CHECK(a.train.labels == b.train.labels);
    CHECK(a.train.name == b.train.name);
  }
  // Sizes are read, not made: 2^32 - 1 samples of 2^32 - 1 features.
  d = scaleinv::parse_data_spec("blobs:n=4294967295,in=4294967295,classes=3,spread=1");
  CHECK(d.planned_values() > 1.8e19);
  d = scaleinv::parse_data_spec("spirals:n=7");
  CHECK((d.noise == 0.05 && !d.seed && d.planned_values() == 14));
  // The file kinds are only parsed: no file is opened.
  d = scaleinv::parse_data_spec("csv:/nonexistent/x.csv,regression,targets=2");
  CHECK((d.kind == "csv" && d.path == "/nonexistent/x.csv" && d.regression && d.targets == 2 && d.reads_files()));
  d = scaleinv::parse_data_spec("idx:/no/images,/no/labels,classes=10");
  CHECK((d.path == "/no/images" && d.labels == "/no/labels" && d.classes == 10 && d.planned_values() == 0));
  d = scaleinv::parse_data_spec("fashion-mnist");
  CHECK((d.kind == "fashion-mnist" && d.path.empty()));
  CHECK_MESSAGE(scaleinv::parse_data_spec("spirals:n=x"),
                "data spec 'spirals:n=x': n 'x' is not a non-negative integer");
  CHECK_MESSAGE(scaleinv::parse_data_spec("idx:a,b,classes=300"),
                "classes=300 is more than an IDX label byte can name");
  // The test fraction is checked first, as before a spec is read.
  CHECK_THROWS_AS(scaleinv::load_data("nope", 1, 2.0), scaleinv::invalid_argument);
}

TEST_CASE("Fashion-MNIST from dataset-fashion-mnist", "[dataset]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) {
    WARN(dir << " is absent (apt-get install dataset-fashion-mnist): the Fashion-MNIST test is skipped");
    return;
  }
  scaleinv::data_split s = scaleinv::load_data("fashion-mnist", 1);
  REQUIRE(s.train.size() == 60000);
  REQUIRE(s.test.size() == 10000);
  CHECK(s.train.features() == 784);
  CHECK(s.test.features() == 784);
  CHECK(s.train.classes == 10);
  CHECK(s.test.classes == 10);
  for (int c = 0; c < 10; ++c) {  // both sets are balanced
    CHECK(std::count(s.train.labels.begin(), s.train.labels.end(), c) == 6000);
    CHECK(std::count(s.test.labels.begin(), s.test.labels.end(), c) == 1000);
  }
  for (Eigen::Index f : {0, 300, 783}) {
    CHECK(std::abs(mean_of(s.train.x, f)) < 1e-9);
    if (s.train.x.row(f).cwiseAbs().maxCoeff() == 0.0) continue;  // constant on the training set
    CHECK(std::abs(std_of(s.train.x, f) - 1.0) < 1e-9);
  }
}
