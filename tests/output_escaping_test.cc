// The one output conversion (issue 12, items 1 and 8): Java's modified UTF-8
// decoded, control characters escaped, invalid bytes shown escaped, in text
// and JSON, on every command; and the streaming JSON writer's layout.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>
#include <nlohmann/json.hpp>
#include <sstream>

#include "flink_savepoint/display.h"
#include "flink_savepoint/json_output.h"
#include "flink_savepoint/json_writer.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// U+1F600 as Java writes it (a CESU-8 surrogate pair) and as UTF-8.
const std::string kEmojiModified = "\xED\xA0\xBD\xED\xB8\x80";
const std::string kEmojiUtf8 = "\xF0\x9F\x98\x80";

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(Display, ModifiedUtf8IsDecoded) {
  EXPECT_EQ(display("source" + kEmojiModified), "source" + kEmojiUtf8);
  EXPECT_EQ(display("source" + kEmojiUtf8), "source" + kEmojiUtf8);  // already UTF-8: unchanged
  EXPECT_EQ(display("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(json_string("source" + kEmojiModified), "\"source" + kEmojiUtf8 + "\"");
  // C0 80 is Java's U+0000: escaped, never a raw NUL.
  EXPECT_EQ(display(std::string("a\xC0\x80z")), "a\\x00z");
  EXPECT_EQ(json_string(std::string("a\xC0\x80z")), "\"a\\u0000z\"");
  EXPECT_EQ(json::parse(json_string(std::string("a\xC0\x80z"))).get<std::string>(), std::string("a\0z", 3));
}

TEST(Display, ControlCharactersAreEscaped) {
  const std::string forged = "evil\x1b[2J\nverdict: compatible\r\t\x7f";
  EXPECT_EQ(display(forged), "evil\\x1B[2J\\nverdict: compatible\\r\\t\\x7F");
  EXPECT_EQ(json_string(forged), "\"evil\\u001b[2J\\nverdict: compatible\\r\\t\\u007f\"");
  EXPECT_EQ(json::parse(json_string(forged)).get<std::string>(), forged);  // JSON gives the exact string back
  // C1 controls (U+009B is a one-byte CSI on some terminals).
  EXPECT_EQ(display("a\xC2\x9B" "2J"), "a\\u009b2J");
  EXPECT_EQ(json_string("\"\\"), "\"\\\"\\\\\"");
  EXPECT_EQ(display("a\\b"), "a\\b");  // a backslash stays in text
}

TEST(Display, InvalidBytesAreShownEscapedNeverThrown) {
  EXPECT_EQ(display("bad\xA0x"), "bad\\xA0x");
  EXPECT_EQ(json_string("bad\xA0x"), "\"bad\\\\xA0x\"");
  EXPECT_EQ(display("\xFF\xFE"), "\\xFF\\xFE");
  EXPECT_EQ(display("trunc\xE2\x82"), "trunc\\xE2\\x82");
  EXPECT_EQ(display("\xC1\x81"), "\\xC1\\x81");  // overlong 'A'
  // An unpaired surrogate (Java writes those too).
  EXPECT_EQ(display("x\xED\xA0\xBDy"), "x\\uD83Dy");
  EXPECT_EQ(json_string("x\xED\xB8\x80"), "\"x\\\\uDE00\"");
  // Every byte value, alone and in pairs: valid UTF-8 out, nothing raw below 0x20.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 17) {
      std::string in{static_cast<char>(a), static_cast<char>(b)};
      std::string t = display(in);
      for (unsigned char c : t) ASSERT_TRUE(c >= 0x20 && c != 0x7F) << a << " " << b;
      ASSERT_TRUE(json::accept(json_string(in))) << a << " " << b;
    }
  }
}

// The fast scan (16 bytes at a time in display.cc) agrees with the
// byte-by-byte rule for every byte value at every position of strings up to
// 40 bytes long (the vector loop and its tail).
TEST(Display, FastScansAgreeWithTheByteRule) {
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'x');
        s[at] = static_cast<char>(b);
        const bool printable = b >= 0x20 && b < 0x7F;
        const bool json_plain_byte = printable && b != '"' && b != '\\';
        ASSERT_EQ(is_plain_text(s), printable) << len << " " << at << " " << b;
        ASSERT_EQ(json_plain_prefix(s), json_plain_byte ? len : at) << len << " " << at << " " << b;
        // Plain strings are copied as is; the others go through the conversion (same result as before).
        if (json_plain_byte) {
          ASSERT_EQ(json_string(s), "\"" + s + "\"");
        }
      }
    }
  }
  EXPECT_TRUE(is_plain_text(""));
  EXPECT_EQ(json_plain_prefix(std::string_view()), 0u);
}

// Strings and documents larger than the writer's 1 MiB buffer come out whole.
TEST(JsonWriter, LargeValuesPassThroughTheBuffer) {
  std::string big(3 << 20, 'p');
  big[(2 << 20) + 5] = '\n';  // a converted string larger than the buffer
  std::string plain(3 << 20, 'q');
  json doc = {{"a", big}, {"b", plain}, {"c", json::array()}};
  for (int i = 0; i < 200000; ++i) doc["c"].push_back(i);
  for (int indent : {2, -1}) {
    std::string out;
    {
      JsonWriter w(out, indent);
      w.value(doc);
    }
    EXPECT_EQ(out, doc.dump(indent));
    std::ostringstream os;
    {
      JsonWriter w(os, indent);
      w.value(doc);
      w.newline();
    }
    EXPECT_EQ(os.str(), doc.dump(indent) + "\n");
  }
}

TEST(JsonWriter, LayoutIsNlohmannDump) {
  json doc = json::parse(R"({"b": [1, -2, {"x": [], "y": {}}, [true, false, null]], "a": "t\u001bx",
                             "c": 1.5, "d": 3.0, "e": 18446744073709551615, "f": {"z": [[]]}})");
  for (int indent : {2, -1}) {
    std::string out;
    {
      JsonWriter w(out, indent);
      w.value(doc);
    }
    EXPECT_EQ(out, doc.dump(indent));
  }
  std::ostringstream os;
  {
    JsonWriter w(os);
    w.begin_array();
    w.value(int64_t{-1});
    w.value(uint64_t{2});
    w.string_or_null("");
    w.end_array();
    w.newline();
  }
  EXPECT_EQ(os.str(), "[\n  -1,\n  2,\n  null\n]\n");
}

// inspect --json over the corpus: the streamed bytes are exactly what
// nlohmann's dump(2) gives for the same document (sorted keys, layout).
TEST(JsonWriter, CorpusDocumentsAreSortedAndLaidOutAsDump) {
  FSP_REQUIRE_SHARED(shared);
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(shared / "testdata")) {
    if (e.path().filename() != "_metadata") continue;
    auto sf = open_snapshot(e.path().string());
    if (!sf) continue;
    std::string out;
    {
      JsonWriter w(out);
      write_snapshot_json(w, sf->snapshot);
    }
    json parsed = json::parse(out);
    ASSERT_EQ(out, parsed.dump(2)) << e.path();
    ASSERT_EQ(parsed["summary"]["file_count"].get<size_t>(), parsed["files"].size()) << e.path();
    ++n;
  }
  EXPECT_GE(n, 490u);
}

// --- CLI over crafted real files -----------------------------------------------------------------

const char* kSavepoint = "flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink2.1-hashmap-savepoint";

// A copy of a real savepoint directory with `from` replaced by `to` (same length) in every file.
fs::path crafted_copy(const fs::path& src, const std::string& name, const std::string& from, const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  fs::path dst = fs::temp_directory_path() / ("fsp-escaping-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dst);
  fs::create_directories(dst);
  int replaced = 0;
  for (const auto& e : fs::directory_iterator(src)) {
    std::string bytes = test::read_file(e.path());
    if (!from.empty())
      for (size_t at = bytes.find(from); at != std::string::npos; at = bytes.find(from, at + to.size())) {
      bytes.replace(at, from.size(), to);
      ++replaced;
    }
    std::ofstream(dst / e.path().filename(), std::ios::binary) << bytes;
  }
  if (!from.empty()) {
    EXPECT_GT(replaced, 0);
  }
  return dst;
}

// A copy whose first operator with a uid gets `uid` (re-encoded through the library).
fs::path with_uid(const fs::path& src, const std::string& name, const std::string& uid) {
  fs::path dst = crafted_copy(src, name, "", "");  // a plain copy
  auto sf = open_snapshot((src / "_metadata").string());
  EXPECT_TRUE(sf.ok());
  Snapshot& s = sf->snapshot;
  bool set = false;
  for (auto& op : s.operators)
    if (!set && !op.uid.empty()) {
      op.uid = s.store(uid);
      set = true;
    }
  EXPECT_TRUE(set);
  auto bytes = encode_metadata(s);
  EXPECT_TRUE(bytes.ok());
  std::ofstream(dst / "_metadata", std::ios::binary | std::ios::trunc) << *bytes;
  return dst;
}

std::string cli() { return test::cli_path(); }

TEST(OutputEscaping, StateNamedWithEmojiInModifiedUtf8) {
  FSP_REQUIRE_SHARED(shared);
  // "source-state" and "source" + U+1F600 in modified UTF-8 are both 12 bytes:
  // the savepoint (metadata and state files) stays consistent.
  fs::path dir = crafted_copy(shared / "testdata" / kSavepoint, "emoji", "source-state", "source" + kEmojiModified);
  const std::string name = "source" + kEmojiUtf8;

  auto js = test::run_command(cli() + " inspect --states --json " + dir.string());
  ASSERT_EQ(js.exit_code, 0) << js.out;
  json j = json::parse(js.out);
  int in_metadata = 0, in_states = 0;
  for (const auto& op : j["operators"]) {
    for (const auto& st : op["subtasks"])
      for (const auto& h : st["managed_operator_state"])
        for (const auto& e : h["states"]) in_metadata += e["name"] == name;
    std::set<std::string> seen;
    for (const auto& s : op["states"]) {
      EXPECT_TRUE(seen.insert(s["name"].get<std::string>()).second) << "state listed twice: " << s["name"];
      if (s["name"] == name) {
        ++in_states;
        EXPECT_GE(s["entries"].get<int64_t>(), 1) << s;  // the statistics are not split off
      }
    }
  }
  EXPECT_GE(in_metadata, 1);
  EXPECT_EQ(in_states, 2);  // two source operators hold it, each lists it once
  EXPECT_EQ(js.out.find("\xED\xA0"), std::string::npos);  // no modified UTF-8 left in the output

  auto text = test::run_command(cli() + " inspect --states " + dir.string());
  ASSERT_EQ(text.exit_code, 0);
  size_t count = 0;
  for (size_t at = text.out.find(name); at != std::string::npos; at = text.out.find(name, at + 1)) ++count;
  EXPECT_EQ(count, 2u) << text.out;  // one row per operator, not a split second row

  auto check = test::run_command(cli() + " check --json " + dir.string() + " --job " + (shared / "testdata" / kSavepoint).string());
  EXPECT_NE(check.exit_code, 70) << check.out;
  EXPECT_TRUE(json::accept(check.out)) << check.out;
  auto lint = test::run_command(cli() + " lint --json " + dir.string());
  EXPECT_EQ(lint.exit_code, 0) << lint.out;
  EXPECT_TRUE(json::accept(lint.out)) << lint.out;
  fs::remove_all(dir);
}

TEST(OutputEscaping, UidWithEscapeAndNewlineCannotForgeALine) {
  FSP_REQUIRE_SHARED(shared);
  const std::string uid = "evil\x1b[2J\nverdict: compatible";
  fs::path dir = with_uid(shared / "testdata" / kSavepoint, "esc", uid);
  auto lines_starting = [](const std::string& out, const std::string& prefix) {
    int n = 0;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) n += l.rfind(prefix, 0) == 0;
    return n;
  };
  for (const std::string& cmd : {std::string(" inspect "), std::string(" inspect --handles "), std::string(" inspect --states "),
                                 std::string(" lint --all ")}) {
    auto r = test::run_command(cli() + cmd + dir.string() + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << cmd << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << cmd;
    EXPECT_EQ(lines_starting(r.out, "verdict: compatible"), 0) << cmd << r.out;
    if (cmd != " inspect --handles ") {
      EXPECT_NE(r.out.find("evil\\x1B[2J\\nverdict: compatible"), std::string::npos) << cmd << r.out;
    }
  }
  auto check = test::run_command(cli() + " check " + dir.string() + " --job " + (shared / "testdata" / kSavepoint).string() + " 2>&1");
  EXPECT_EQ(check.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(lines_starting(check.out, "verdict:"), 1) << check.out;

  auto js = test::run_command(cli() + " inspect --json " + dir.string());
  ASSERT_EQ(js.exit_code, 0);
  EXPECT_EQ(js.out.find('\x1b'), std::string::npos);
  json j = json::parse(js.out);
  int found = 0;
  for (const auto& op : j["operators"]) found += op["uid"] == uid;  // JSON carries the exact string
  EXPECT_EQ(found, 1);
  fs::remove_all(dir);
}

TEST(OutputEscaping, NulAndInvalidBytesInAUid) {
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = with_uid(shared / "testdata" / kSavepoint, "nul", std::string("nul\xC0\x80x bad\xA0"));
  auto text = test::run_command(cli() + " inspect " + dir.string());
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("nul\\x00x bad\\xA0"), std::string::npos) << text.out;
  auto js = test::run_command(cli() + " inspect --json " + dir.string());
  ASSERT_EQ(js.exit_code, 0) << js.out;
  json j = json::parse(js.out);
  int found = 0;
  for (const auto& op : j["operators"]) found += op["uid"] == std::string("nul\0x bad\\xA0", 13);
  EXPECT_EQ(found, 1) << js.out;
  auto lint = test::run_command(cli() + " lint --json " + dir.string());
  EXPECT_EQ(lint.exit_code, 0);
  EXPECT_TRUE(json::accept(lint.out)) << lint.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fsp
