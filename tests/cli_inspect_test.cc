// The CLI's inspect and uid-hash commands: output contract, exit codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_support.h"
#include "flink_savepoint/json.h"

namespace fsp {
namespace {

using nlohmann::json;

std::string sample() { return std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint"; }

TEST(CliInspect, UidHashVectors) {
  auto r = test::run_command(test::cli_path() + " uid-hash broadcast-source-uid datagen-source-uid");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "3a6f51704798c4f418be51bfb6813b77  broadcast-source-uid\n47aee94394d6ea26e2d544bef0a37bb5  datagen-source-uid\n");
  auto j = test::run_command(test::cli_path() + " uid-hash --json CheckpointingSource1");
  ASSERT_EQ(j.exit_code, 0);
  EXPECT_EQ(json::parse(j.out)[0]["uid_hash"], "69f32d314b97c6f7f9ed7873983167f2");
}

TEST(CliInspect, TableHeaderAndRows) {
  auto r = test::run_command(test::cli_path() + " inspect " + sample());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("metadata version: 6 (written by Flink 2.1+)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("snapshot:         savepoint, canonical format (\"Savepoint\")"), std::string::npos);
  EXPECT_NE(r.out.find("operator uid hash"), std::string::npos);
  EXPECT_NE(r.out.find("enrich-orders-uid     c9182e4c118ce17652e75de761521d96"), std::string::npos) << r.out;
}

TEST(CliInspect, JsonContractKeys) {
  // File, directory and stdin give the same model.
  auto a = test::run_command(test::cli_path() + " inspect --json " + sample());
  auto b = test::run_command(test::cli_path() + " inspect --json " + sample() + "/_metadata");
  auto c = test::run_command(test::cli_path() + " inspect --json - < " + sample() + "/_metadata");
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(c.exit_code, 0);
  json ja = json::parse(a.out), jb = json::parse(b.out), jc = json::parse(c.out);
  EXPECT_EQ(ja["operators"], jb["operators"]);
  EXPECT_EQ(ja["operators"], jc["operators"]);
  EXPECT_EQ(jc["metadata_path"], "-");
  for (const char* k : {"metadata_version", "checkpoint_id", "snapshot", "master_states", "operators", "files"})
    EXPECT_TRUE(ja.contains(k)) << k;
  EXPECT_EQ(ja["snapshot"]["type"], "savepoint");
  EXPECT_EQ(ja["snapshot"]["format"], "canonical");
  EXPECT_EQ(ja["snapshot"]["name"], "Savepoint");
  ASSERT_EQ(ja["files"].size(), 4u);
  EXPECT_EQ(ja["files"][0]["path"], "5a3f0001-0c1e-4b8a-9d2f-000000007919");
  EXPECT_EQ(ja["files"][0]["size"], 232);
  const json& op = ja["operators"][1];
  for (const char* k : {"operator_id", "name", "uid", "parallelism", "max_parallelism", "fully_finished",
                        "coordinator_state_size", "subtask_state_count", "total_size", "subtasks"})
    EXPECT_TRUE(op.contains(k)) << k;
  EXPECT_EQ(op["operator_id"], "c9182e4c118ce17652e75de761521d96");
  EXPECT_EQ(op["uid"], "enrich-orders-uid");
  EXPECT_EQ(op["total_size"], 1106);
  const json& st = op["subtasks"][0];
  for (const char* k : {"index", "finished", "managed_operator_state", "raw_operator_state", "managed_keyed_state",
                        "raw_keyed_state", "input_channel_state", "result_subpartition_state"})
    EXPECT_TRUE(st.contains(k)) << k;
  const json& h = st["managed_keyed_state"][0];
  EXPECT_EQ(h["type"], "KeyGroupsSavepointStateHandle");
  EXPECT_EQ(h["key_group_range"]["start"], 0);
  EXPECT_EQ(h["key_group_range"]["end"], 63);
  EXPECT_EQ(h["offsets_count"], 64);
  EXPECT_EQ(h["delegate"]["type"], "RelativeFileStateHandle");
  EXPECT_EQ(h["state_size"], 493);
}

TEST(CliInspect, StatesJson) {
  auto r = test::run_command(test::cli_path() + " inspect --json --states " + sample());
  ASSERT_EQ(r.exit_code, 0);
  json j = json::parse(r.out);
  const json& s = j["operators"][1]["states"];
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "order-count");
  EXPECT_EQ(s[0]["kind"], "value");
  EXPECT_EQ(s[0]["type"], "Long");
  EXPECT_EQ(s[0]["ttl"], false);
  EXPECT_EQ(s[0]["entries"], 12);
  EXPECT_EQ(s[0]["key_serializer"], "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot");
  const json& src = j["operators"][0]["states"];
  ASSERT_EQ(src.size(), 1u);
  EXPECT_EQ(src[0]["kind"], "operator_list");
  EXPECT_EQ(src[0]["entries"], 4);
}

TEST(CliInspect, ExitCodes) {
  auto missing = test::run_command(test::cli_path() + " inspect /nonexistent/savepoint 2>&1");
  EXPECT_EQ(missing.exit_code, 66);
  EXPECT_NE(missing.out.find("error: cannot find checkpoint or savepoint"), std::string::npos) << missing.out;
  auto notmeta = test::run_command(test::cli_path() + " inspect " + std::string(FSP_SOURCE_DIR) + "/README.md 2>&1");
  EXPECT_EQ(notmeta.exit_code, 65);
  EXPECT_NE(notmeta.out.find("the file is text, not a binary _metadata file"), std::string::npos) << notmeta.out;
  EXPECT_NE(notmeta.out.find("at byte 0"), std::string::npos);
  auto json_err = test::run_command(test::cli_path() + " inspect --json " + std::string(FSP_SOURCE_DIR) + "/README.md 2>&1 >/dev/null");
  EXPECT_EQ(json_err.exit_code, 65);
  EXPECT_EQ(json::parse(json_err.out)["error"]["offset"], 0);
  auto usage = test::run_command(test::cli_path() + " inspect 2>&1");
  EXPECT_EQ(usage.exit_code, 64);
  auto dir_without = test::run_command(test::cli_path() + " inspect " + std::string(FSP_SOURCE_DIR) + "/docs 2>&1");
  EXPECT_EQ(dir_without.exit_code, 66);
  EXPECT_NE(dir_without.out.find("cannot find meta data file '_metadata'"), std::string::npos);
}

TEST(CliInspect, GroundTruthTableState) {
  FSP_REQUIRE_SHARED(shared);
  auto r = test::run_command(test::cli_path() + " inspect --json " +
                             (shared / "testdata/flink-repo/flink-libraries/flink-state-processing-api/src/test/resources/table-state").string());
  ASSERT_EQ(r.exit_code, 0);
  json j = json::parse(r.out);
  EXPECT_EQ(j["checkpoint_id"], 10);
  bool found = false;
  for (const auto& op : j["operators"])
    if (op["uid"] == "keyed-broadcast-process-uid") {
      found = true;
      EXPECT_EQ(op["operator_id"], "413c1d6f88ee8627fe4b8bc533b4cf1b");
      EXPECT_EQ(op["parallelism"], 2);
      EXPECT_EQ(op["max_parallelism"], 128);
      EXPECT_EQ(op["subtask_state_count"], 2);
      EXPECT_EQ(op["total_size"], 4548);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace fsp
