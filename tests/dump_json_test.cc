// dump's JSON Lines writer (src/json/dump_json.cc) on hostile strings: every
// string goes through the one JSON string conversion (display.h), so each
// line is strict JSON whatever bytes a state holds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/display.h"
#include "flink_savepoint/dump.h"
#include "flink_savepoint/dump_json.h"
#include "flink_savepoint/state_value.h"

namespace {

using fsp::state::Value;

std::string value_json(const Value& v) {
  std::string out;
  fsp::append_value_json(v, out);
  return out;
}

// {input bytes, the exact JSON string literal dump prints}
const std::vector<std::pair<std::string, std::string>>& hostile() {
  static const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\"b\\c", R"("a\"b\\c")"},
      // C0 controls: the short escapes, the rest as \u00XX (DEL too).
      {"\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {"\x01\x1b\x1f\x7f", R"("\u0001\u001b\u001f\u007f")"},
      {std::string("x\0y", 3), R"("x\u0000y")"},
      // C1 controls (U+0080-U+009F) escaped; U+00A0 (not a control) kept.
      {"\xC2\x80\xC2\x85\xC2\x9F\xC2\xA0", "\"\\u0080\\u0085\\u009f\xC2\xA0\""},
      // Java's modified UTF-8 NUL.
      {"\xC0\x80", R"("\u0000")"},
      // Unpaired surrogates (3-byte forms): the text \uXXXX, backslash escaped.
      {"\xED\xA0\x80", R"("\\uD800")"},
      {"\xED\xBF\xBF", R"("\\uDFFF")"},
      {"\xED\xA0\x80\xED\xA0\x80", R"("\\uD800\\uD800")"},
      {"\xED\xB8\x80\xED\xA0\xBD", R"("\\uDE00\\uD83D")"},  // low before high: no pair
      // Supplementary characters: 4-byte UTF-8 and CESU-8 pairs both as UTF-8.
      {"\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},
      {"\xED\xA0\xBD\xED\xB8\x80", "\"\xF0\x9F\x98\x80\""},
      // Bytes that start no valid sequence: the text \xHH, backslash escaped.
      {"\xFF", R"("\\xFF")"},
      {"\xA0", R"("\\xA0")"},
      {"\xE2\x82", R"("\\xE2\\x82")"},                          // truncated
      {"\xC1\x81", R"("\\xC1\\x81")"},                          // overlong 'A'
      {"\xE0\x80\x80", R"("\\xE0\\x80\\x80")"},                 // overlong NUL
      {"\xF8\x80\x80", R"("\\xF8\\x80\\x80")"},                 // no such lead byte
      {"\xF4\x90\x80\x80", R"("\\xF4\\x90\\x80\\x80")"},        // above U+10FFFF
      {"ok\xFFok", R"("ok\\xFFok")"},
  };
  return cases;
}

TEST(DumpJson, HostileStringsAreExactAndStrict) {
  for (const auto& [in, want] : hostile()) {
    SCOPED_TRACE(testing::PrintToString(in));
    std::string got = value_json(Value::string(in));
    EXPECT_EQ(got, want);
    EXPECT_TRUE(nlohmann::json::accept(got)) << got;
    // One conversion: exactly what inspect --json prints for the same bytes.
    std::string display;
    fsp::append_json_string(display, in);
    EXPECT_EQ(got, display);
  }
}

TEST(DumpJson, RecordsWithHostileNamesKeysAndValuesAreStrictJsonLines) {
  size_t lines = 0;
  for (const auto& [in, want] : hostile()) {
    SCOPED_TRACE(testing::PrintToString(in));
    fsp::DumpRecord r;
    r.operator_id = "0123456789abcdef0123456789abcdef";
    r.uid = in;
    r.state = in;
    r.kind = "map";
    r.keyed = true;
    r.key_group = 3;
    r.key = Value::string(in);
    r.has_user_key = true;
    r.user_key = Value::string(in);
    r.value = Value::object();
    r.value.add(in, Value::string(in));
    r.value.add("list", Value::array()).add(Value::string(in));
    std::string line;
    fsp::append_dump_record_json(r, line);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line per record
    const std::string& w = want;
    EXPECT_EQ(line, "{\"operator_id\":\"0123456789abcdef0123456789abcdef\",\"uid\":" + w + ",\"state\":" + w +
                        ",\"kind\":\"map\",\"key_group\":3,\"key\":" + w + ",\"namespace\":null,\"user_key\":" + w +
                        ",\"value\":{" + w + ":" + w + ",\"list\":[" + w + "]}}\n");
    EXPECT_TRUE(nlohmann::json::accept(line)) << line;
    ++lines;
  }
  EXPECT_EQ(lines, hostile().size());
}

TEST(DumpJson, NonFiniteDoublesAndBytes) {
  EXPECT_EQ(value_json(Value::real(std::numeric_limits<double>::quiet_NaN())), "\"NaN\"");
  EXPECT_EQ(value_json(Value::real(-std::numeric_limits<double>::infinity())), "\"-Infinity\"");
  EXPECT_EQ(value_json(Value::bytes(std::string("\xFF\x00\x80", 3))), "\"/wCA\"");
}

}  // namespace
