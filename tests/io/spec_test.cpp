// tests/io/spec_test.cpp: the one spec reader shared by network and data specs: cutting into kind,
// tokens and KEY[=VALUE] options, the value readers and their messages.
#include "catch_shim.hpp"

#include <string>
#include <vector>

#include "scaleinv/error.hpp"
#include "scaleinv/io/spec.hpp"

using namespace scaleinv;

namespace {
// The message a parse_error carries, or "" when nothing was thrown.
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const parse_error& e) { return e.what(); }
  return "";
}
}  // namespace

TEST_CASE("split_on keeps empty pieces", "[spec]") {
  using v = std::vector<std::string_view>;
  CHECK(split_on("a,,b", ',') == v{"a", "", "b"});
  CHECK(split_on("", ',') == v{""});
  CHECK(split_on(",", ',') == v{"", ""});
  CHECK(split_on("784-500-10", '-') == v{"784", "500", "10"});
}

TEST_CASE("split_spec cuts at the first colon", "[spec]") {
  spec_parts p = split_spec("idx:a:b,c,classes=3");
  CHECK(p.kind == "idx");
  CHECK(p.has_colon);
  CHECK(p.tokens == std::vector<std::string_view>{"a:b", "c", "classes=3"});
  p = split_spec("fashion-mnist");
  CHECK(p.kind == "fashion-mnist");
  CHECK_FALSE(p.has_colon);
  CHECK(p.tokens.empty());
  p = split_spec("mlp:");
  CHECK(p.has_colon);
  CHECK(p.tokens == std::vector<std::string_view>{""});
}

TEST_CASE("split_option: KEY=VALUE, KEY=, KEY", "[spec]") {
  spec_option o = split_option("act=leaky_relu:0.1");
  CHECK(o.key == "act");
  CHECK(o.value == "leaky_relu:0.1");
  CHECK_FALSE(o.is_flag);
  o = split_option("init=");
  CHECK(o.key == "init");
  CHECK(o.value.empty());
  CHECK_FALSE(o.is_flag);
  o = split_option("bias");
  CHECK(o.key == "bias");
  CHECK(o.is_flag);
  o = split_option("a=b=c");
  CHECK(o.key == "a");
  CHECK(o.value == "b=c");
}

TEST_CASE("spec_parser: values and their messages", "[spec]") {
  const spec_parser p{"data spec 'x'"};
  CHECK(p.integer("42", "n") == 42);
  CHECK(p.positive("7", "n") == 7);
  CHECK(p.real("-2.5", "p") == -2.5);
  CHECK(p.nonnegative_real("0.25", "noise") == 0.25);
  CHECK(message_of([&] { p.integer("x", "seed"); }) == "data spec 'x': seed 'x' is not a non-negative integer");
  CHECK(message_of([&] { p.integer("-1", "seed"); }) == "data spec 'x': seed '-1' is not a non-negative integer");
  CHECK(message_of([&] { p.integer("99999999999999999999", "seed"); }) ==
        "data spec 'x': seed '99999999999999999999' is too large");
  CHECK(message_of([&] { p.positive("0", "n"); }) == "data spec 'x': n must be at least 1");
  CHECK(message_of([&] { p.positive("4294967296", "n"); }) == "data spec 'x': n '4294967296' is too large");
  // Issue 11 item 6: infinities and numbers past the range of a double each say what they are.
  CHECK(message_of([&] { p.real("inf", "p"); }) == "data spec 'x': p 'inf' is not finite");
  CHECK(message_of([&] { p.real("nan", "p"); }) == "data spec 'x': p 'nan' is not a number");
  CHECK(message_of([&] { p.real("1e400", "p"); }) == "data spec 'x': p '1e400' is out of the range of a double");
  CHECK(message_of([&] { p.nonnegative_real("-1", "noise"); }) ==
        "data spec 'x': noise '-1' is not a non-negative number");
  CHECK(message_of([&] { p.fail("anything"); }) == "data spec 'x': anything");
}

TEST_CASE("spec_parser::options: known, required, given once, with a value", "[spec]") {
  const spec_parser p{"data spec 's'"};
  const std::vector<std::string_view> tokens{"skip", "n=10", "noise=0.5"};
  spec_options o = p.options(tokens, 1, "spirals", {"n", "noise", "seed"}, {"n"});
  CHECK(o.get("n") == std::string_view("10"));
  CHECK(o.get("noise") == std::string_view("0.5"));
  CHECK_FALSE(o.get("seed"));
  auto fails = [&](std::vector<std::string_view> t) {
    return message_of([&] { p.options(t, 0, "spirals", {"n", "noise"}, {"n"}); });
  };
  CHECK(fails({"n=1", ""}) == "data spec 's': empty option (a stray comma?)");
  CHECK(fails({"m=1"}) == "data spec 's': unknown option 'm=1' for spirals (expected n=..., noise=...)");
  CHECK(fails({"n"}) == "data spec 's': option 'n' needs a value (n=...)");
  CHECK(fails({"n="}) == "data spec 's': option 'n=' needs a value (n=...)");
  CHECK(fails({"n=1", "n=2"}) == "data spec 's': option 'n' is given twice");
  CHECK(fails({"noise=1"}) == "data spec 's': spirals needs n=...");
}
