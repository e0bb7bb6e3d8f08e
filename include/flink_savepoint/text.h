// Small text helpers shared by the layers above: ASCII case folding and the
// edit distance behind "did you mean" hints (unknown commands and flags in
// the CLI, unknown keys and values in a job manifest).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace fsp {

// `s` with A-Z folded to a-z (bytes, locale-independent).
std::string ascii_lower(std::string_view s);

// The number of single-byte insertions, deletions and substitutions that
// turn `a` into `b` (Levenshtein).
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace fsp
