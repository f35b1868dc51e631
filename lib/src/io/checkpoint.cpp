// checkpoint.cpp: training checkpoints, written and read through nlohmann::json; the settings
// table that says what a checkpoint records and what a resumed run must share with it.
#include "scaleinv/io/checkpoint.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <type_traits>
#include <variant>

#include "json_detail.hpp"
#include "scaleinv/error.hpp"
#include "scaleinv/io/network_json.hpp"

namespace scaleinv {
namespace {
using json = nlohmann::json;
using member = std::variant<std::string training_settings::*, std::uint64_t training_settings::*,
                            bool training_settings::*, double training_settings::*>;

struct setting {
  const char* key;
  member field;
  bool must_match;               ///< a resumed run must use the same value to continue bit-identically
  const char* legacy = nullptr;  ///< the value older checkpoints without the key imply (JSON text)
};

// The one table: every recorded setting, in no particular order (the JSON object is sorted).
const setting kSettings[] = {
    {"optimizer", &training_settings::optimizer, true},
    {"param", &training_settings::param, true, "\"weights\""},  // checkpoints from before --param trained the weights
    {"balance", &training_settings::balance, true, "\"none\""},
    {"skeleton", &training_settings::skeleton, true, "\"first\""},  // before --skeleton: the least-index skeleton
    {"skeleton_one", &training_settings::skeleton_one, true, "false"},
    {"seed", &training_settings::seed, true},
    {"float64", &training_settings::float64, true},
    {"batch_size", &training_settings::batch_size, true},
    {"data", &training_settings::data, true},
    {"lr", &training_settings::lr, false},
    {"momentum", &training_settings::momentum, false},
    {"weight_decay", &training_settings::weight_decay, false},
};

json value_of(const training_settings& s, const member& m) {
  return std::visit([&](auto field) { return json(s.*field); }, m);
}

// Whether v holds a T exactly as written. nlohmann's get<T>() converts silently: -1 to 2^64 - 1 and
// 2.5 to 2 for an unsigned integer, with undefined behaviour for 1e300; so the type is checked first.
template <class T>
bool holds(const json& v) {
  if constexpr (std::is_same_v<T, std::string>) return v.is_string();
  else if constexpr (std::is_same_v<T, bool>) return v.is_boolean();
  else if constexpr (std::is_same_v<T, std::uint64_t>) return v.is_number_unsigned();
  else return v.is_number();
}

std::vector<double> number_array(const json& t, const char* key, const std::string& path) {
  try {
    return t.at(key).get<std::vector<double>>();
  } catch (const json::exception&) {
    throw parse_error(path, 0, 0, fmt::format("the checkpoint's \"training\".\"{}\" is not an array of numbers", key));
  }
}
}  // namespace

std::string write_checkpoint_json(const checkpoint& c) {
  json t = {{"epoch", c.epoch}, {"batch", c.batch}, {"state", c.state}};
  for (const setting& s : kSettings) t[s.key] = value_of(c.settings, s.field);
  if (c.params) t["params"] = *c.params;
  if (c.signs) t["signs"] = *c.signs;
  return write_network_json(c.net, {{"training", t.dump()}});
}

checkpoint read_checkpoint(const std::string& path) {
  const std::string text = read_text_file(path);
  checkpoint c{read_network_json(text, path), {}, 0, 0, {}, std::nullopt, std::nullopt};
  json doc = json::parse(text);  // well formed: read_network_json parsed it
  if (!doc.contains("training")) throw parse_error(path, 0, 0, "not a checkpoint: it has no \"training\" object");
  const json& t = doc["training"];
  if (!t.is_object()) throw parse_error(path, 0, 0, "the checkpoint's \"training\" is not an object");
  for (const setting& s : kSettings) {
    const json* v = t.contains(s.key) ? &t[s.key] : nullptr;
    json legacy;
    if (v == nullptr) {
      if (s.legacy == nullptr)
        throw parse_error(path, 0, 0, fmt::format("the checkpoint's \"training\" has no \"{}\"", s.key));
      legacy = json::parse(s.legacy);
      v = &legacy;
    }
    std::visit(
        [&](auto field) {
          using type = std::remove_reference_t<decltype(c.settings.*field)>;
          if (!holds<type>(*v))
            throw parse_error(
                path, 0, 0,
                fmt::format("the checkpoint's \"training\".\"{}\" has the wrong type: {}", s.key, detail::shown(*v)));
          c.settings.*field = v->get<type>();
        },
        s.field);
  }
  for (const char* key : {"epoch", "batch"})
    if (!t.contains(key) || !holds<std::uint64_t>(t[key]))
      throw parse_error(path, 0, 0,
                        "the checkpoint's \"training\" needs non-negative integers \"epoch\" and \"batch\"");
  c.epoch = t["epoch"].get<std::uint64_t>();
  c.batch = t["batch"].get<std::uint64_t>();
  c.state = number_array(t, "state", path);
  if (t.contains("params")) c.params = number_array(t, "params", path);
  if (t.contains("signs")) c.signs = number_array(t, "signs", path);
  return c;
}

std::optional<std::string> checkpoint_mismatch(const training_settings& saved, const training_settings& run) {
  for (const setting& s : kSettings) {
    if (!s.must_match) continue;
    json a = value_of(saved, s.field), b = value_of(run, s.field);
    if (a != b) return fmt::format("{} = {}", s.key, a.dump());
  }
  return std::nullopt;
}

}  // namespace scaleinv
