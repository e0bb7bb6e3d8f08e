// The one conversion every printed string goes through (text and JSON).
//
// Input: bytes as stored (Java's modified UTF-8) or already standard UTF-8
// (names converted by the decoders, paths typed on the command line): both
// decode the same way.
//   - C0 80 is U+0000; a CESU-8 surrogate pair (ED A0-AF .. ED B0-BF ..) is
//     one supplementary character; 4-byte UTF-8 sequences are accepted too.
//   - A byte that starts no valid sequence is shown as the four characters
//     \xHH (e.g. \xA0); an unpaired surrogate as \uD83D. Never an exception.
// Output: valid UTF-8 in which no control character (U+0000-U+001F, U+007F,
// U+0080-U+009F) appears raw, so that no stored string can move the cursor,
// clear a terminal or start a new line of output.
//   - text: \n \r \t, other controls as \xHH (below U+0080) or \u0085 style;
//   - JSON: \" \\ \b \f \n \r \t, other controls as \u001b (lower-case hex).
// A backslash is printed as is in text (paths and uids rarely hold one), and
// as \\ in JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fsp {

// Appends the text form of `s` to `out`.
void append_display(std::string& out, std::string_view s);
// The text form of `s`, for tables, messages and error texts.
std::string display(std::string_view s);

// Appends `s` as a JSON string literal (with the quotes) to `out`.
void append_json_string(std::string& out, std::string_view s);

// True when `s` is printable as is (ASCII without control characters).
bool is_plain_text(std::string_view s);

// The length of the leading part of `s` that a JSON string holds as is
// (printable ASCII other than '"' and '\\'): s.size() when nothing needs
// converting, so that writers can copy plain strings without a second pass.
size_t json_plain_prefix(std::string_view s);

}  // namespace fsp
