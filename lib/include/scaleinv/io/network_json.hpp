// scaleinv/io/network_json.hpp: the scaleinv.network JSON format (docs/formats.md), both ways.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scaleinv/graph/network.hpp"

namespace scaleinv {

/// Parses and validates a network. `source` names the text in messages (a file name).
/// @throws parse_error ("source:line:column: ..." for malformed JSON; "source: edges[3] ...: ..."
/// for a structural problem, naming the node or edge); not_a_dag for a cycle.
network read_network_json(std::string_view text, const std::string& source);

/// Reads a file. @throws parse_error when it cannot be opened or read.
network read_network_file(const std::string& path);

/// One node or edge per line. A weight is written as a JSON number when a double holds it
/// exactly, else as an exact rational string, so that reading the output back is lossless.
std::string write_network_json(const network& net);

/// The same with more top-level members after "edges", each a key and its value as JSON text (a
/// checkpoint's "training", io/checkpoint.hpp).
std::string write_network_json(const network& net, const std::vector<std::pair<std::string, std::string>>& extra);

/// The whole contents of a file. @throws parse_error naming the file and the OS error.
std::string read_text_file(const std::string& path);

/// Writes contents to path through a temporary file in the same folder and a rename, so a reader
/// never sees a partial file and a failure leaves none behind. @throws error naming the path.
void write_file_atomic(const std::string& path, std::string_view contents);

}  // namespace scaleinv
