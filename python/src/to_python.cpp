// python/src/to_python.cpp: nlohmann JSON values as Python objects.
#include "to_python.hpp"

#include <string>

namespace scaleinv::python {

py::object to_python(const nlohmann::ordered_json& j) {
  using value_t = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case value_t::null:
    case value_t::discarded:
      return py::none();
    case value_t::boolean:
      return py::bool_(j.get<bool>());
    case value_t::number_integer:
      return py::int_(j.get<std::int64_t>());
    case value_t::number_unsigned:
      return py::int_(j.get<std::uint64_t>());
    case value_t::number_float:
      return py::float_(j.get<double>());
    case value_t::string:
      return py::str(j.get_ref<const std::string&>());
    case value_t::binary:
      return py::bytes(std::string(j.get_binary().begin(), j.get_binary().end()));
    case value_t::array: {
      py::list out(j.size());
      for (std::size_t i = 0; i < j.size(); ++i) out[i] = to_python(j[i]);
      return out;
    }
    case value_t::object: {
      py::dict out;
      for (const auto& [key, value] : j.items()) out[py::str(key)] = to_python(value);
      return out;
    }
  }
  return py::none();
}

}  // namespace scaleinv::python
