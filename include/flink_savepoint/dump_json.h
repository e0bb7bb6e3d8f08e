// dump records as JSON Lines (docs/dump.md). A small writer over a string
// buffer; strings go through the one JSON string conversion (display.h:
// modified UTF-8, control characters, unpaired surrogates and invalid bytes as
// docs/json.md says), bytes are base64.
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
