// scaleinv/exact/rational.hpp: exact rationals (GMP mpq_class) read from and written as text.
#pragma once

#include <gmpxx.h>

#include <optional>
#include <string>
#include <string_view>

namespace scaleinv {

/// Parses "p/q", an integer, or a decimal ("-0.25", "1.5e-3") into a canonical rational.
/// Returns nullopt for anything else, including a zero denominator, "inf" and "nan".
std::optional<mpq_class> parse_rational(std::string_view text);

/// The canonical text of q: "p/q", or "p" when q is an integer.
std::string to_string(const mpq_class& q);

/// True when q is exactly a finite double (so a JSON number represents it without loss).
bool is_exact_double(const mpq_class& q);

/// An mpq built from numerator and denominator, canonicalized (GMP's two-argument constructor
/// does not canonicalize).
mpq_class make_rational(const mpz_class& num, const mpz_class& den);

}  // namespace scaleinv
