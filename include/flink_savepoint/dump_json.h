// dump records as JSON Lines (docs/dump.md). A small writer over a string
// buffer; strings are UTF-8 with unpaired surrogates and control characters
// escaped, bytes are base64.
#pragma once

#include <string>

#include "flink_savepoint/dump.h"
#include "flink_savepoint/state_value.h"

namespace fsp {

// Appends one value as JSON.
void append_value_json(const state::Value& v, std::string& out);

// Appends one record as a JSON object followed by '\n'.
void append_dump_record_json(const DumpRecord& r, std::string& out);

}  // namespace fsp
