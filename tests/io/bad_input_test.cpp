// tests/io/bad_input_test.cpp: the bad-input corpus tests/data/bad/ (malformed network files and
// NET specs, listed with the message each must produce in tests/data/bad/cases.txt), run through
// scaleinv::load_network and through the CLI; and the promise that a failing `convert -o OUT`
// leaves no OUT and no temporary file behind.
#include "catch_shim.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli/cli_support.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/load.hpp"

namespace fs = std::filesystem;
using namespace scaleinv::test;

namespace {

const std::string kBadDir = std::string(SCALEINV_TEST_DATA) + "/bad";

// One line of cases.txt.
struct bad_case {
  std::size_t line = 0;  // in cases.txt, for messages
  std::string field;     // FILE_OR_SPEC as written
  std::string arg;       // what load_network and the CLI receive
  std::string expected;  // EXPECTED_SUBSTRING
  bool is_file = false;
};

std::vector<bad_case> parse_manifest() {
  const std::string manifest = kBadDir + "/cases.txt";
  std::ifstream in(manifest);
  REQUIRE(in.good());  // tests/data/bad/cases.txt must exist
  std::vector<bad_case> cases;
  std::string text;
  std::size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty() || text.front() == '#') continue;
    INFO("cases.txt line " << line << ": " << text);
    auto tab = text.find('\t');
    REQUIRE(tab != std::string::npos);                       // FILE_OR_SPEC<TAB>EXPECTED_SUBSTRING
    REQUIRE(text.find('\t', tab + 1) == std::string::npos);  // exactly one tab
    bad_case c;
    c.line = line;
    c.field = text.substr(0, tab);
    c.expected = text.substr(tab + 1);
    REQUIRE(!c.field.empty());
    REQUIRE(!c.expected.empty());
    c.is_file = c.field.find(':') == std::string::npos;
    c.arg = c.is_file ? kBadDir + "/" + c.field : c.field;
    cases.push_back(std::move(c));
  }
  return cases;
}

// The manifest, parsed once (the DYNAMIC_SECTION loops below run a test case once per case).
const std::vector<bad_case>& read_cases() {
  static const std::vector<bad_case> cases = parse_manifest();
  return cases;
}

std::string describe(const bad_case& c) {
  return "case '" + c.field + "' (cases.txt line " + std::to_string(c.line) + ")";
}

// What load_network did with a case: the message of the scaleinv::error it threw, or a note on
// what happened instead.
struct load_outcome {
  bool threw_scaleinv_error = false;
  std::string message;
};

load_outcome try_load(const std::string& arg) {
  load_outcome o;
  try {
    scaleinv::network net = scaleinv::load_network(arg);
    o.message = "(no exception: loaded a network with " + std::to_string(net.num_nodes()) + " nodes and " +
                std::to_string(net.num_edges()) + " edges)";
  } catch (const scaleinv::error& e) {
    o.threw_scaleinv_error = true;
    o.message = e.what();
  } catch (const std::exception& e) {
    o.message = std::string("(an exception that is not a scaleinv::error: ") + e.what() + ")";
  } catch (...) { o.message = "(an exception that is not a std::exception)"; }
  return o;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(nothing)" : s;
}

}  // namespace

TEST_CASE("the bad-input manifest is well formed and covers the corpus", "[bad_input]") {
  auto cases = read_cases();
  CHECK(cases.size() >= 90);

  std::set<std::string> listed;
  std::size_t files = 0, specs = 0;
  for (const auto& c : cases) {
    INFO(describe(c));
    CHECK(listed.insert(c.field).second);  // no case listed twice
    if (c.is_file) {
      ++files;
      if (starts_with(c.field, "does_not_exist")) CHECK_FALSE(fs::exists(c.arg));
      else CHECK(fs::exists(c.arg));
    } else {
      ++specs;
    }
  }
  CHECK(files >= 60);
  CHECK(specs >= 25);
  // Every corpus file is a case, so a file added here without a manifest line is not silently untested.
  for (const auto& entry : fs::directory_iterator(kBadDir)) {
    if (entry.path().extension() != ".json") continue;
    INFO("tests/data/bad/" << entry.path().filename().string() << " is not listed in cases.txt");
    CHECK(listed.count(entry.path().filename().string()) == 1);
  }
  // The corpus covers what the brief asks for (a spot check of the manifest itself).
  for (const char* must : {"mlp:", "mlp:3", "mlp:3-x-2", "mlp:3-0-2", "mlp:3-4-2,foo", "mlp:3-4-2,act=swish",
                           "skip:3-4-4-2,span=1", "random:inputs=2", "random:seed=1,p=2", "foo:1-2", "example:nope",
                           "does_not_exist.json", "empty.json", "truncated.json", "cycle_2.json", "cycle_3.json",
                           "self_loop.json", "edge_unknown_key_wieght.json", "weight_1e999.json"}) {
    INFO("missing case " << must);
    CHECK(listed.count(must) == 1);
  }
}

TEST_CASE("every bad input makes load_network throw a scaleinv::error with the expected message", "[bad_input]") {
  for (const auto& c : read_cases()) {
    DYNAMIC_SECTION(describe(c)) {
      load_outcome o = try_load(c.arg);
      INFO(describe(c));
      INFO("argument: " << c.arg);
      INFO("expected a scaleinv::error containing: " << c.expected);
      INFO("actual: " << o.message);
      REQUIRE(o.threw_scaleinv_error);
      REQUIRE_THAT(o.message, Catch::Contains(c.expected));
    }
  }
}

TEST_CASE("every bad input makes `scaleinv analyze` exit 3 with one error line", "[bad_input]") {
  for (const auto& c : read_cases()) {
    DYNAMIC_SECTION(describe(c)) {
      cli_result r = run({"analyze", c.arg});
      INFO(describe(c));
      INFO("exit code " << r.code);
      INFO("stdout: " << r.out);
      INFO("stderr: " << r.err);
      REQUIRE(r.code == scaleinv::cli::bad_input);
      CHECK(r.out.empty());
      REQUIRE(starts_with(r.err, "scaleinv: error: "));
      CHECK_THAT(r.err, Catch::Contains(c.expected));  // the library's message, passed on unchanged
      CHECK(r.err.back() == '\n');
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
  }
}

TEST_CASE("every bad input is bad input to every subcommand", "[bad_input]") {
  const std::vector<std::vector<std::string>> commands = {{"basis"},  {"basis", "--json"}, {"express", "--path", "0"},
                                                          {"verify"}, {"convert"},         {"convert", "--to", "dot"}};
  for (const auto& c : read_cases()) {
    for (const auto& cmd : commands) {
      std::vector<std::string> args = cmd;
      args.insert(args.begin() + 1, c.arg);
      cli_result r = run(args);
      INFO(describe(c) << ", scaleinv " << cmd.front() << " ...: exit " << r.code << ", stderr: " << r.err);
      CHECK(r.code == scaleinv::cli::bad_input);
      CHECK(r.out.empty());
      CHECK(starts_with(r.err, "scaleinv: error: "));
    }
  }
}

// The exact location, through parse_error's accessors as well as the message (worked out by hand:
// see the comments in cases.txt).
TEST_CASE("invalid JSON is located by line and column", "[bad_input]") {
  struct located {
    const char* file;
    std::size_t line, column;
  };
  const located cases[] = {
      {"syntax_trailing_comma.json", 7, 3}, {"syntax_missing_colon.json", 3, 13},
      {"syntax_missing_comma.json", 6, 5},  {"syntax_unquoted_value.json", 5, 26},
      {"syntax_single_quotes.json", 4, 14}, {"syntax_trailing_garbage.json", 2, 1},
      {"syntax_bad_utf8.json", 5, 14},      {"truncated.json", 11, 26},
      {"truncated_in_string.json", 1, 81},  {"empty.json", 1, 1},
      {"whitespace_only.json", 4, 1},
  };
  for (const auto& c : cases) {
    const std::string path = kBadDir + "/" + c.file;
    INFO(c.file);
    try {
      (void)scaleinv::load_network(path);
      FAIL("no exception for " << c.file);
    } catch (const scaleinv::parse_error& e) {
      INFO("message: " << e.what());
      CHECK(e.where() == path);
      CHECK(e.line() == c.line);
      CHECK(e.column() == c.column);
      CHECK(starts_with(e.what(),
                        path + ":" + std::to_string(c.line) + ":" + std::to_string(c.column) + ": invalid JSON: "));
    }
  }
}

// A structural problem is a parse_error naming the file (but no line: the JSON itself is fine).
TEST_CASE("structural problems in a file are parse errors naming the file", "[bad_input]") {
  for (const char* file :
       {"node_duplicate_id.json", "edge_into_input.json", "weights_partial.json", "format_wrong.json"}) {
    const std::string path = kBadDir + "/" + file;
    INFO(file);
    try {
      (void)scaleinv::load_network(path);
      FAIL("no exception for " << file);
    } catch (const scaleinv::parse_error& e) {
      CHECK(e.where() == path);
      CHECK(e.line() == 0);
      CHECK(starts_with(e.what(), path + ": "));
    }
  }
}

// not_a_dag carries the cycle: its node ids in order, the first repeated at the end. The starting
// node is the implementation's choice, so any rotation of the expected cycle is accepted here
// (cases.txt pins the exact message).
TEST_CASE("a cycle is reported as not_a_dag listing every node on it", "[bad_input]") {
  struct cycle_case {
    const char* file;
    std::vector<std::string> cycle;  // without the repeat
  };
  const cycle_case cases[] = {
      {"cycle_2.json", {"h0", "h1"}},
      {"cycle_3.json", {"a", "b", "c"}},
      {"cycle_unreached.json", {"u", "v"}},
      {"self_loop.json", {"h0"}},
  };
  for (const auto& c : cases) {
    INFO(c.file);
    try {
      (void)scaleinv::load_network(kBadDir + "/" + c.file);
      FAIL("no exception for " << c.file);
    } catch (const scaleinv::not_a_dag& e) {
      const auto& got = e.cycle();
      std::string listed;
      for (const auto& id : got) listed += id + " ";
      INFO("cycle(): " << listed << "; message: " << e.what());
      REQUIRE(got.size() == c.cycle.size() + 1);
      CHECK(got.front() == got.back());
      auto start = std::find(c.cycle.begin(), c.cycle.end(), got.front());
      REQUIRE(start != c.cycle.end());
      std::size_t offset = static_cast<std::size_t>(start - c.cycle.begin());
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == c.cycle[(offset + i) % c.cycle.size()]);
      std::string text = "cycle ";
      for (std::size_t i = 0; i < got.size(); ++i) text += (i ? " -> " : "") + got[i];
      CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
  }
}

TEST_CASE("convert with a bad NET writes no output file", "[bad_input]") {
  temp_dir dir;
  const std::string out_path = (dir.path() / "out.json").string();
  for (const std::string& net :
       {kBadDir + "/cycle_3.json", kBadDir + "/syntax_trailing_comma.json", kBadDir + "/does_not_exist.json",
        std::string("mlp:3-x-2"), std::string("example:nope"), kBadDir + "/weight_1e999.json"}) {
    for (const char* to : {"json", "dot"}) {
      cli_result r = run({"convert", net, "--to", to, "-o", out_path});
      INFO("convert " << net << " --to " << to << ": exit " << r.code << ", stderr: " << r.err);
      CHECK(r.code == scaleinv::cli::bad_input);
      CHECK(r.out.empty());
      CHECK(starts_with(r.err, "scaleinv: error: "));
      CHECK_FALSE(fs::exists(out_path));
      INFO("left in the output folder: " << join(dir.entries()));
      CHECK(dir.entries().empty());
    }
  }
  // An existing OUT is left untouched by a failed conversion.
  { std::ofstream(out_path) << "previous contents\n"; }
  cli_result r = run({"convert", "mlp:3-0-2", "-o", out_path});
  CHECK(r.code == scaleinv::cli::bad_input);
  CHECK(read_file(out_path) == "previous contents\n");
  INFO("left in the output folder: " << join(dir.entries()));
  CHECK(dir.entries() == std::vector<std::string>{"out.json"});
}

TEST_CASE("convert into a folder that does not exist fails with exit 3 and leaves nothing", "[bad_input]") {
  temp_dir dir;
  const fs::path missing = dir.path() / "no_such_folder";
  const std::string out_path = (missing / "out.json").string();
  for (const char* to : {"json", "dot"}) {
    cli_result r = run({"convert", "example:demo", "--to", to, "-o", out_path});
    INFO("exit " << r.code << ", stderr: " << r.err);
    CHECK(r.code == scaleinv::cli::bad_input);
    CHECK(r.out.empty());
    CHECK(starts_with(r.err, "scaleinv: error: "));
    CHECK(r.err.find(out_path) != std::string::npos);  // the message names the file it could not write
    CHECK_FALSE(fs::exists(missing));
    INFO("left in the parent folder: " << join(dir.entries()));
    CHECK(dir.entries().empty());
  }
  // basis -o goes through the same atomic writer.
  cli_result r = run({"basis", "example:demo", "-o", out_path});
  CHECK(r.code == scaleinv::cli::bad_input);
  CHECK_FALSE(fs::exists(missing));
  CHECK(dir.entries().empty());
}

TEST_CASE("convert onto an existing folder fails with exit 3 and leaves no temporary file", "[bad_input]") {
  temp_dir dir;
  const fs::path target = dir.path() / "a_folder";
  fs::create_directories(target);
  cli_result r = run({"convert", "example:demo", "-o", target.string()});
  INFO("exit " << r.code << ", stderr: " << r.err);
  CHECK(r.code == scaleinv::cli::bad_input);
  CHECK(r.out.empty());
  CHECK(starts_with(r.err, "scaleinv: error: "));
  CHECK(fs::is_directory(target));
  CHECK(fs::is_empty(target));
  INFO("left in the parent folder: " << join(dir.entries()));
  CHECK(dir.entries() == std::vector<std::string>{"a_folder"});
}
