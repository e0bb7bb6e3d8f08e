#include "flink_savepoint/units.h"

#include <array>
#include <cctype>
#include <utility>

namespace fsp {
namespace {

struct Parsed {
  uint64_t number = 0;
  std::string unit;  // lower-case, trimmed
};

Result<Parsed> split(std::string_view text, std::string_view what) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  std::string_view t = text.substr(b, e - b);
  size_t i = 0;
  Parsed p;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
    uint64_t d = static_cast<uint64_t>(t[i] - '0');
    if (p.number > (UINT64_MAX - d) / 10) return Error::usage(std::string(what) + " '" + std::string(text) + "' is too large");
    p.number = p.number * 10 + d;
    ++i;
  }
  if (i == 0) return Error::usage(std::string(what) + " '" + std::string(text) + "' does not start with a number");
  while (i < t.size() && std::isspace(static_cast<unsigned char>(t[i]))) ++i;
  for (; i < t.size(); ++i) p.unit += static_cast<char>(std::tolower(static_cast<unsigned char>(t[i])));
  return p;
}

template <size_t N>
const uint64_t* find_unit(const std::array<std::pair<const char*, uint64_t>, N>& table, const std::string& unit) {
  for (const auto& [label, factor] : table)
    if (unit == label) return &factor;
  return nullptr;
}

}  // namespace

Result<uint64_t> parse_memory_size(std::string_view text) {
  auto p = split(text, "size");
  if (!p) return p.take_error();
  static constexpr std::array<std::pair<const char*, uint64_t>, 15> kUnits{{
      {"", 1},           {"b", 1},
      {"bytes", 1},      {"k", 1ull << 10},
      {"kb", 1ull << 10}, {"kibibytes", 1ull << 10},
      {"m", 1ull << 20}, {"mb", 1ull << 20},
      {"mebibytes", 1ull << 20}, {"g", 1ull << 30},
      {"gb", 1ull << 30}, {"gibibytes", 1ull << 30},
      {"t", 1ull << 40}, {"tb", 1ull << 40},
      {"tebibytes", 1ull << 40},
  }};
  const uint64_t* f = find_unit(kUnits, p->unit);
  if (!f) {
    Error e = Error::usage("size '" + std::string(text) + "' has an unknown unit '" + p->unit + "'");
    e.hint = "units as Flink's MemorySize takes them: b, k/kb, m/mb, g/gb, t/tb (powers of 1024), e.g. 256mb or 1g";
    return e;
  }
  if (p->number > UINT64_MAX / *f) return Error::usage("size '" + std::string(text) + "' is too large");
  return p->number * *f;
}

Result<int64_t> parse_duration_ms(std::string_view text) {
  auto p = split(text, "duration");
  if (!p) return p.take_error();
  // Factors in nanoseconds.
  constexpr uint64_t kMs = 1000000, kS = 1000 * kMs, kMin = 60 * kS, kH = 60 * kMin, kD = 24 * kH;
  static constexpr std::array<std::pair<const char*, uint64_t>, 32> kUnits{{
      {"", kMs},          {"d", kD},           {"day", kD},          {"days", kD},
      {"h", kH},          {"hour", kH},        {"hours", kH},        {"m", kMin},
      {"min", kMin},      {"minute", kMin},    {"minutes", kMin},    {"s", kS},
      {"sec", kS},        {"secs", kS},        {"second", kS},       {"seconds", kS},
      {"ms", kMs},        {"milli", kMs},      {"millis", kMs},      {"millisecond", kMs},
      {"milliseconds", kMs}, {"us", 1000},     {"\xC2\xB5s", 1000},  {"micro", 1000},
      {"micros", 1000},   {"microsecond", 1000}, {"microseconds", 1000}, {"ns", 1},
      {"nano", 1},        {"nanos", 1},        {"nanosecond", 1},    {"nanoseconds", 1},
  }};
  const uint64_t* f = find_unit(kUnits, p->unit);
  if (!f) {
    Error e = Error::usage("duration '" + std::string(text) + "' has an unknown unit '" + p->unit + "'");
    e.hint = "units as Flink's TimeUtils takes them: d, h, min, s, ms, us, ns (a bare number is milliseconds), e.g. 30 s";
    return e;
  }
  // value * factor / 1e6 without overflow: split the factor.
  unsigned __int128 ns = static_cast<unsigned __int128>(p->number) * *f;
  unsigned __int128 ms = ns / kMs;
  if (ms > static_cast<unsigned __int128>(INT64_MAX)) return Error::usage("duration '" + std::string(text) + "' is too large");
  return static_cast<int64_t>(ms);
}

}  // namespace fsp
