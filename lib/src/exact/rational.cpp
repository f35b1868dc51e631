// rational.cpp: text <-> mpq_class.
#include "scaleinv/exact/rational.hpp"

#include <cctype>
#include <cmath>

namespace scaleinv {
namespace {
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s)
    if (std::isdigit(static_cast<unsigned char>(ch)) == 0) return false;
  return true;
}
}  // namespace

mpq_class make_rational(const mpz_class& num, const mpz_class& den) {
  mpq_class q(num, den);
  q.canonicalize();
  return q;
}

std::optional<mpq_class> parse_rational(std::string_view text) {
  if (text.empty() || text.size() > 10000) return std::nullopt;
  bool negative = false;
  std::string_view s = text;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  mpq_class result;
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view num = s.substr(0, slash), den = s.substr(slash + 1);
    if (!all_digits(num) || !all_digits(den)) return std::nullopt;
    mpz_class d(std::string(den), 10);
    if (d == 0) return std::nullopt;
    result = make_rational(mpz_class(std::string(num), 10), d);
  } else {
    // decimal: digits [. digits] [e|E [sign] digits]
    std::string_view mantissa = s, exponent;
    if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
      mantissa = s.substr(0, e);
      exponent = s.substr(e + 1);
      bool exp_negative = false;
      if (!exponent.empty() && (exponent.front() == '+' || exponent.front() == '-')) {
        exp_negative = exponent.front() == '-';
        exponent.remove_prefix(1);
      }
      if (!all_digits(exponent) || exponent.size() > 6) return std::nullopt;
      long ex = std::stol(std::string(exponent));
      if (ex > 100000) return std::nullopt;
      mpz_class p10;
      mpz_ui_pow_ui(p10.get_mpz_t(), 10, static_cast<unsigned long>(ex));
      result = exp_negative ? make_rational(1, p10) : mpq_class(p10);
    } else {
      result = 1;
    }
    std::string_view int_part = mantissa, frac_part;
    if (auto dot = mantissa.find('.'); dot != std::string_view::npos) {
      int_part = mantissa.substr(0, dot);
      frac_part = mantissa.substr(dot + 1);
      if (int_part.empty() && frac_part.empty()) return std::nullopt;
      if (!int_part.empty() && !all_digits(int_part)) return std::nullopt;
      if (!frac_part.empty() && !all_digits(frac_part)) return std::nullopt;
    } else if (!all_digits(int_part)) {
      return std::nullopt;
    }
    std::string digits = std::string(int_part) + std::string(frac_part);
    mpz_class num(digits.empty() ? std::string("0") : digits, 10), den;
    mpz_ui_pow_ui(den.get_mpz_t(), 10, frac_part.size());
    result *= make_rational(num, den);
  }
  if (negative) result = -result;
  return result;
}

std::string to_string(const mpq_class& q) {
  mpq_class c = q;
  c.canonicalize();
  return c.get_str(10);
}

bool is_exact_double(const mpq_class& q) {
  double d = q.get_d();
  if (!std::isfinite(d)) return false;
  return mpq_class(d) == q;
}

}  // namespace scaleinv
