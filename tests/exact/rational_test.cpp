// tests/exact/rational_test.cpp: reading and writing exact rationals.
#include "catch_shim.hpp"

#include "scaleinv/exact/rational.hpp"

using namespace scaleinv;

TEST_CASE("parse_rational reads fractions, integers and decimals exactly, canonicalized", "[rational]") {
  REQUIRE(*parse_rational("-3/4") == mpq_class(-3, 4));
  REQUIRE(parse_rational("2/4")->get_den() == 2);  // canonical: 1/2, not 2/4
  REQUIRE(*parse_rational("7") == 7);
  REQUIRE(*parse_rational("+7") == 7);
  REQUIRE(*parse_rational("0.1") == mpq_class(1, 10));  // exactly a tenth, not the double 0.1
  REQUIRE(*parse_rational("-1.25e-2") == mpq_class(-1, 80));
  REQUIRE(*parse_rational("3E2") == 300);
  REQUIRE(*parse_rational(".5") == mpq_class(1, 2));
  REQUIRE(*parse_rational("5.") == 5);
  REQUIRE(*parse_rational("123456789012345678901234567890/3") == mpq_class("41152263004115226300411522630"));
}

TEST_CASE("parse_rational rejects everything else", "[rational]") {
  for (const char* bad : {"", "-", "/", "1/", "/2", "1/0", "0/0", "abc", "inf", "nan", "1e", "1.2.3", "1/2/3", "1 / 2",
                          " 1", "1e+", "--1", "0x10", "1,5"}) {
    INFO(bad);
    REQUIRE_FALSE(parse_rational(bad).has_value());
  }
}

TEST_CASE("to_string and is_exact_double", "[rational]") {
  REQUIRE(to_string(mpq_class(-6, 8)) == "-3/4");
  REQUIRE(to_string(mpq_class(5)) == "5");
  REQUIRE(is_exact_double(mpq_class(3, 8)));
  REQUIRE_FALSE(is_exact_double(mpq_class(1, 10)));
  REQUIRE(is_exact_double(mpq_class(0.1)));  // the double nearest 0.1 is itself a rational
  REQUIRE(make_rational(4, -6) == mpq_class(-2, 3));
  REQUIRE(make_rational(4, -6).get_den() == 3);
}
