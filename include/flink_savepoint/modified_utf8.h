// Java's modified UTF-8 (DataOutput.writeUTF) <-> standard UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fsp {

// Decodes C0 80 to U+0000 and joins CESU-8 surrogate pairs into 4-byte
// sequences. Invalid bytes become U+FFFD. Pure ASCII input is returned as is.
std::string modified_utf8_to_utf8(std::string_view m);

// Appends one code point as UTF-8 (1 to 4 bytes). A surrogate (a lone UTF-16
// half) gets its 3-byte form, as in CESU-8.
void append_utf8(std::string& out, uint32_t code_point);

// The reverse, for strings given on the command line (paths, uids).
std::string utf8_to_modified_utf8(std::string_view u);

}  // namespace fsp
