// csv.cpp: CSV files of numbers, with a label or regression targets at the end of each row.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include "scaleinv/error.hpp"
#include "scaleinv/io/dataset.hpp"
#include "scaleinv/io/network_json.hpp"

namespace scaleinv {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// What a field holds: a finite number, something that reads as a number but no double holds (NaN,
// infinities, and magnitudes beyond the range of a double, which from_chars reports as out of
// range), or text.
enum class field_kind { finite, not_finite, out_of_range, text };

field_kind classify_field(std::string_view s, double& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ptr != s.data() + s.size()) return field_kind::text;
  if (ec == std::errc::result_out_of_range) return field_kind::out_of_range;
  if (ec != std::errc{}) return field_kind::text;
  return std::isfinite(v) ? field_kind::finite : field_kind::not_finite;
}

struct csv_field {
  std::string_view text;
  std::size_t column;  // 1-based character position in the line
};

std::vector<csv_field> split_fields(std::string_view line) {
  std::vector<csv_field> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    std::string_view raw = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t lead = 0;
    while (lead < raw.size() && (raw[lead] == ' ' || raw[lead] == '\t')) ++lead;
    out.push_back({trim(raw), start + lead + 1});
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

}  // namespace

dataset read_csv(const std::string& path, bool classify, std::size_t targets) {
  if (!classify && targets == 0) throw invalid_argument("a regression CSV needs at least one target column");
  std::string text = read_text_file(path);
  std::string_view all(text);

  std::vector<std::string> names;  // from the header, if any
  std::vector<double> values;      // row-major: one sample after the other
  std::vector<int> labels;
  std::size_t width = 0, width_line = 0, rows = 0, line_no = 0;
  const std::size_t tail = classify ? 1 : targets;

  auto field_name = [&](std::size_t k) {
    return k < names.size() && !names[k].empty() ? fmt::format("field {} ('{}')", k + 1, names[k])
                                                 : fmt::format("field {}", k + 1);
  };
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    std::string_view line = all.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? all.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    std::vector<csv_field> fields = split_fields(line);

    if (width == 0) {  // the first line: the header, or the first sample
      width = fields.size();
      width_line = line_no;
      if (width <= tail) {
        throw parse_error(path, line_no, 0,
                          classify ? fmt::format("has {} field{}: need at least one feature and the label", width,
                                                 width == 1 ? "" : "s")
                                   : fmt::format("has {} field{}: need at least one feature and {} target{}", width,
                                                 width == 1 ? "" : "s", targets, targets == 1 ? "" : "s"));
      }
      // A header has no field that reads as a number: a first row with one (even NaN or 1e400) is
      // data, and its bad fields are reported below like those of any other row.
      bool header = std::none_of(fields.begin(), fields.end(), [](const csv_field& f) {
        double v = 0;
        return classify_field(f.text, v) != field_kind::text;
      });
      if (header) {
        for (const auto& f : fields) names.emplace_back(f.text);
        continue;
      }
    } else if (fields.size() != width) {
      throw parse_error(path, line_no, 0,
                        fmt::format("has {} fields, but line {} has {}", fields.size(), width_line, width));
    }

    for (std::size_t k = 0; k < width; ++k) {
      const csv_field& f = fields[k];
      if (classify && k + 1 == width) {
        int label = 0;
        auto [ptr, ec] = std::from_chars(f.text.data(), f.text.data() + f.text.size(), label);
        if (ec != std::errc{} || ptr != f.text.data() + f.text.size() || f.text.empty() || label < 0)
          throw parse_error(
              path, line_no, f.column,
              fmt::format("the label, {}, is '{}', not a non-negative integer class", field_name(k), f.text));
        labels.push_back(label);
        continue;
      }
      double v = 0;
      switch (classify_field(f.text, v)) {
        case field_kind::finite:
          break;
        case field_kind::out_of_range:
          throw parse_error(path, line_no, f.column,
                            fmt::format("{} is '{}', out of the range of a double", field_name(k), f.text));
        case field_kind::not_finite:
        case field_kind::text:
          throw parse_error(path, line_no, f.column,
                            fmt::format("{} is '{}', not a finite number", field_name(k), f.text));
      }
      values.push_back(v);
    }
    ++rows;
  }
  if (rows == 0)
    throw parse_error(path, 0, 0, names.empty() ? "no data rows (the file is empty)" : "no data rows after the header");

  dataset d;
  d.name = path;
  const std::size_t numeric_cols = classify ? width - 1 : width;  // per row in `values`
  const std::size_t features = width - tail;
  d.x.resize(static_cast<Eigen::Index>(features), static_cast<Eigen::Index>(rows));
  if (!classify) d.targets.resize(static_cast<Eigen::Index>(targets), static_cast<Eigen::Index>(rows));
  for (std::size_t r = 0; r < rows; ++r) {
    const double* row = values.data() + r * numeric_cols;
    for (std::size_t k = 0; k < features; ++k) d.x(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = row[k];
    if (!classify)
      for (std::size_t k = 0; k < targets; ++k)
        d.targets(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(r)) = row[features + k];
  }
  if (classify) {
    d.classes = static_cast<std::size_t>(*std::max_element(labels.begin(), labels.end())) + 1;
    d.labels = std::move(labels);
  }
  return d;
}

}  // namespace scaleinv
