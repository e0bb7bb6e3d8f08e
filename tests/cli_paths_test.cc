// Command-line paths no other test runs: --help and --version, usage errors
// (text and --json), the last-resort handlers of src/cli/main.cc (exit 74 on
// std::bad_alloc, 70 on any other exception, through tests/fault_inject.cc),
// and inspect's text tables --handles and --states over Flink's real files
// (StatefulJob migration snapshots, GROUND_TRUTH.md 2.1). Table rows are
// compared cell by cell (whitespace-separated), not by column alignment.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace fsp {
namespace {

std::string sample() { return std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint"; }

std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> cells;
    for (std::string c; ls >> c;) cells.push_back(c);
    rows.push_back(std::move(cells));
  }
  return rows;
}

bool has_row(const std::string& text, const std::vector<std::string>& cells) {
  for (const auto& r : rows_of(text))
    if (r == cells) return true;
  return false;
}

TEST(CliPaths, HelpListsEveryCommandAndTheExitCodes) {
  auto r = test::run_command(test::cli_path() + " --help");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* cmd : {"inspect", "uid-hash", "check", "relocate", "lint"})
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("\\n +") + cmd + " "))) << cmd << " in\n" << r.out;
  EXPECT_NE(r.out.find("Exit codes: 0 ok, 1 findings (check/lint)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("64 usage, 65 bad data, 66 no input"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("70 internal, 73 cannot create, 74 I/O"), std::string::npos) << r.out;
  auto sub = test::run_command(test::cli_path() + " inspect --help");
  ASSERT_EQ(sub.exit_code, 0) << sub.out;
  for (const char* opt : {"--json", "--handles", "--states", "--path-map"})
    EXPECT_NE(sub.out.find(opt), std::string::npos) << opt << " in\n" << sub.out;
}

TEST(CliPaths, VersionIsTheProjectVersion) {
  auto r = test::run_command(test::cli_path() + " --version");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string first = r.out.substr(0, r.out.find('\n') + 1);
  EXPECT_TRUE(std::regex_match(first, std::regex("flink-savepoint [0-9]+\\.[0-9]+\\.[0-9]+\n"))) << r.out;
  // The same as CMake's project(VERSION ...).
  std::string cmake = test::read_file(std::string(FSP_SOURCE_DIR) + "/CMakeLists.txt");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(cmake, m, std::regex("project\\(flink_savepoint VERSION ([0-9.]+)")));
  EXPECT_EQ(first, "flink-savepoint " + m[1].str() + "\n");
}

TEST(CliPaths, UsageErrorsExit64WithAHint) {
  auto none = test::run_command(test::cli_path() + " 2>&1");
  EXPECT_EQ(none.exit_code, 64) << none.out;
  EXPECT_NE(none.out.find("error: "), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("subcommand"), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("hint: run `flink-savepoint --help`"), std::string::npos) << none.out;
  auto bad = test::run_command(test::cli_path() + " inspect --no-such-flag " + sample() + " 2>&1");
  EXPECT_EQ(bad.exit_code, 64) << bad.out;
  EXPECT_NE(bad.out.find("--no-such-flag"), std::string::npos) << bad.out;
  // With --json the error is a JSON object on stderr (docs/errors.md).
  auto j = test::run_command(test::cli_path() + " inspect --json --no-such-flag " + sample() + " 2>&1 >/dev/null");
  EXPECT_EQ(j.exit_code, 64) << j.out;
  auto doc = nlohmann::json::parse(j.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << j.out;
  EXPECT_EQ(doc["error"]["exit_code"], 64);
  EXPECT_NE(doc["error"]["message"].get<std::string>().find("--no-such-flag"), std::string::npos) << j.out;
  EXPECT_NE(doc["error"]["hint"].get<std::string>().find("flink-savepoint help inspect"), std::string::npos) << j.out;
}

// The handlers of last resort: an allocation failure is exit 74 (EX_IOERR, "out of
// memory"), any other escaped exception exit 70 (EX_SOFTWARE, "internal error").
// Reading a pipe allocates 8 MiB blocks; the preloaded fault_inject fails those.
TEST(CliPaths, OutOfMemoryExits74AndInternalErrorsExit70) {
#ifdef FSP_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer replaces operator new: the LD_PRELOAD fault injection cannot interpose (the plain build runs this test)";
#else
  const std::string cmd = "cat " + sample() + "/_metadata | env LD_PRELOAD=" + FSP_FAULT_INJECT_PATH;
  auto ok = test::run_command(cmd + " " + test::cli_path() + " inspect - 2>&1");
  ASSERT_EQ(ok.exit_code, 0) << "without FSP_FAULT the preloaded library changes nothing: " << ok.out;
  EXPECT_NE(ok.out.find("metadata version: 6"), std::string::npos) << ok.out;

  auto oom = test::run_command(cmd + " FSP_FAULT=oom " + test::cli_path() + " inspect - 2>&1");
  EXPECT_EQ(oom.exit_code, 74) << oom.out;
  EXPECT_EQ(oom.out, "error: out of memory\nhint: raise the memory limit (ulimit -v) or free memory\n");

  auto internal = test::run_command(cmd + " FSP_FAULT=throw " + test::cli_path() + " inspect - 2>&1");
  EXPECT_EQ(internal.exit_code, 70) << internal.out;
  EXPECT_NE(internal.out.find("error: internal error: fault injected: allocation of 8388608 bytes"), std::string::npos)
      << internal.out;
#endif
}

TEST(CliPaths, InspectHandlesTableOverARealRocksDbSavepoint) {
  FSP_REQUIRE_SHARED(shared);
  auto dir = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native";
  auto r = test::run_command(test::cli_path() + " inspect --handles '" + dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE((has_row(r.out, {"operator", "subtask", "slot", "role", "type", "size", "path"}))) << r.out;
  // Source 2's operator state, and FlatMap1's subtask 1: meta data and private RocksDB files by local name.
  EXPECT_TRUE((has_row(r.out, {"#0", "1f2b5df5a66154aca61fcb26193792be", "0", "managed", "operator", "state", "data",
                              "RelativeFileStateHandle", "282", "8c3315c9-036e-4e76-9268-96ccf8c098b7"})))
      << r.out;
  EXPECT_TRUE((has_row(r.out, {"#1", "d5c8b168c6cbfe8c507a10f88b325243", "1", "managed", "keyed", "state", "meta", "data",
                              "RelativeFileStateHandle", "505", "2d0aff85-6bc9-4469-951c-2ba222ef639b"})))
      << r.out;
  EXPECT_TRUE((has_row(r.out, {"#1", "d5c8b168c6cbfe8c507a10f88b325243", "1", "managed", "keyed", "state", "private", "state",
                              "000010.sst", "RelativeFileStateHandle", "982", "68a656a0-e1ab-494b-ae37-77e5917067bd"})))
      << r.out;
  // Without --handles: no handle table.
  auto plain = test::run_command(test::cli_path() + " inspect '" + dir.string() + "'");
  ASSERT_EQ(plain.exit_code, 0);
  EXPECT_EQ(plain.out.find("RelativeFileStateHandle"), std::string::npos);
}

TEST(CliPaths, InspectStatesTablesOverARealHeapSavepoint) {
  FSP_REQUIRE_SHARED(shared);
  auto dir = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint-native";
  auto r = test::run_command(test::cli_path() + " inspect --states '" + dir.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE((has_row(r.out, {"CheckpointingKeyedStateFlatMap1", "(d5c8b168c6cbfe8c507a10f88b325243)"}))) << r.out;
  EXPECT_TRUE((has_row(r.out, {"state", "kind", "type", "ttl", "entries", "bytes", "key", "groups", "max", "kg", "bytes"})));
  EXPECT_TRUE((has_row(r.out, {"state-name", "value", "Long", "no", "4", "86", "3", "40"}))) << r.out;
  EXPECT_TRUE((has_row(r.out, {"state-name", "value", "Long", "no", "4", "114", "3", "54"}))) << r.out;
  EXPECT_TRUE((has_row(r.out, {"_timer_state/event_timer", "timers", "Timer<Tuple1<Long>,", "Long>", "no", "4", "120", "4", "54"})))
      << r.out;
  EXPECT_TRUE((has_row(r.out, {"source-state", "operator_union", "String", "no", "4", "94", "-", "-"}))) << r.out;
  EXPECT_TRUE((has_row(r.out, {"source-state", "operator_list", "String", "no", "4", "94", "-", "-"}))) << r.out;
  // --no-statistics: the headers only, entries and bytes unknown.
  auto h = test::run_command(test::cli_path() + " inspect --states --no-statistics '" + dir.string() + "'");
  ASSERT_EQ(h.exit_code, 0) << h.out;
  EXPECT_TRUE((has_row(h.out, {"state-name", "value", "Long", "no", "-", "-", "-", "-"}))) << h.out;
}

}  // namespace
}  // namespace fsp
