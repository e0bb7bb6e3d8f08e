// lint over Flink's StatefulJob migration savepoints (GROUND_TRUTH.md 2.1/2.2).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "flink_savepoint/lint.h"
#include "test_support.h"

namespace fsp {
namespace {

// GROUND_TRUTH.md 2.1 and 2.2: the six uid'd operators of each family.
const std::vector<std::string> kUids = {"CheckpointingSource1", "CheckpointingKeyedStateFlatMap1",
                                        "CheckpointingTimelyStatefulOperator1", "CheckpointingSource2",
                                        "CheckpointingKeyedStateFlatMap2", "CheckpointingTimelyStatefulOperator2"};
const std::vector<std::string> kBroadcastUids = {"CheckpointingSource1", "CheckpointingSource2", "BrCheckpointingSource1",
                                                 "BrCheckpointingSource2", "BrProcess1", "BrProcess2"};

std::vector<test::ManifestRow> stateful_job_rows() {
  std::vector<test::ManifestRow> out;
  for (auto& r : test::manifest())
    if (r.path.find("new-stateful-udf-migration-itcase") != std::string::npos ||
        r.path.find("new-stateful-broadcast-udf-migration-itcase") != std::string::npos)
      out.push_back(r);
  return out;
}

TEST(Lint, DefaultMaxParallelismFollowsFlink) {
  EXPECT_EQ(default_max_parallelism(1), 128);
  EXPECT_EQ(default_max_parallelism(85), 128);
  EXPECT_EQ(default_max_parallelism(86), 256);
  EXPECT_EQ(default_max_parallelism(1000), 2048);
  EXPECT_EQ(default_max_parallelism(30000), 32768);
}

TEST(Lint, StatefulJobUidsAndMaxParallelism) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = stateful_job_rows();
  ASSERT_EQ(rows.size(), 148u);
  for (const auto& row : rows) {
    auto sf = open_snapshot((shared / "testdata" / "flink-repo" / row.path).string());
    ASSERT_TRUE(sf.ok()) << row.path;
    LintOptions o;
    o.read_states = false;
    bool broadcast = row.path.find("broadcast") != std::string::npos;
    const auto& uids = broadcast ? kBroadcastUids : kUids;
    if (sf->snapshot.version < 5) o.known_uids = uids;
    LintReport r = lint(*sf, o);
    std::set<std::string> uid_pass;
    std::map<std::string, std::string> maxp;
    for (const auto& f : r.findings) {
      if (f.check == "uid") {
        EXPECT_EQ(f.status, "pass") << row.path << " " << f.operator_id << ": " << f.message;
        uid_pass.insert(f.uid);
      }
      if (f.check == "max-parallelism") maxp[f.operator_id] = f.status + ": " + f.message;
    }
    // Six uid'd operators pass; the two sinks (no uid) are stateless: no finding at all.
    EXPECT_EQ(uid_pass, std::set<std::string>(uids.begin(), uids.end())) << row.path;
    EXPECT_EQ(r.fails(), 0) << row.path;
    // Max parallelism 4, explicitly chosen, equal to the parallelism of the keyed operators: no room.
    // (FlatMap1 d5c8b168..., or BrProcess1 12d7d939... in the broadcast family.)
    std::string keyed = broadcast ? "12d7d939fd56473cac7cff0603179a41" : "d5c8b168c6cbfe8c507a10f88b325243";
    ASSERT_EQ(maxp.count(keyed), 1u) << row.path;
    EXPECT_NE(maxp[keyed].find("warn: max parallelism 4 is explicitly chosen and equals the parallelism"), std::string::npos)
        << maxp[keyed];
    for (const auto& [id, text] : maxp) EXPECT_EQ(text.find("looks derived"), std::string::npos) << row.path << " " << id;
  }
}

TEST(Lint, PreV5WithoutUidsSaysItCannotTell) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open_snapshot((shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint").string());
  ASSERT_TRUE(sf.ok());
  LintOptions o;
  o.read_states = false;
  LintReport r = lint(*sf, o);
  int infos = 0;
  for (const auto& f : r.findings)
    if (f.check == "uid") {
      EXPECT_EQ(f.status, "info");
      EXPECT_NE(f.message.find("cannot be told from the file alone"), std::string::npos);
      ++infos;
    }
  EXPECT_EQ(infos, 6);
}

TEST(Lint, MissingUidFailsOnV5AndStrictExitCode) {
  FSP_REQUIRE_SHARED(shared);
  // table-state-nulls: v5 State Processor API output; every stateful operator has a uid.
  auto path = shared / "testdata/flink-repo/flink-libraries/flink-state-processing-api/src/test/resources/table-state";
  auto r = test::run_command(test::cli_path() + " lint --no-states " + path.string() + " > /dev/null");
  EXPECT_EQ(r.exit_code, 0);
  // --strict means what it means for `check`: warnings fail too (its four derived max parallelisms warn).
  auto strict = test::run_command(test::cli_path() + " lint --no-states --strict " + path.string() + " > /dev/null");
  EXPECT_EQ(strict.exit_code, 1);
  // The project's sample has uids on all operators too; a stateful operator without one must fail --strict:
  // build one by clearing a uid in a copy of the sample through the encoder.
  auto sf = open_snapshot((std::filesystem::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint").string());
  ASSERT_TRUE(sf.ok());
  sf->snapshot.operators[1].uid = {};
  LintOptions o;
  o.read_states = false;
  LintReport rep = lint(*sf, o);
  EXPECT_EQ(rep.fails(), 1);
  bool found = false;
  for (const auto& f : rep.findings)
    if (f.check == "uid" && f.status == "fail") {
      found = true;
      EXPECT_EQ(f.operator_id, "c9182e4c118ce17652e75de761521d96");
      EXPECT_NE(f.fix.find("setUidHash(\"c9182e4c118ce17652e75de761521d96\")"), std::string::npos);
    }
  EXPECT_TRUE(found);
}

TEST(Lint, SampleMaxParallelismLooksDerived) {
  auto sf = open_snapshot((std::filesystem::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint").string());
  ASSERT_TRUE(sf.ok());
  LintOptions o;
  o.read_states = false;
  LintReport rep = lint(*sf, o);
  int derived = 0;
  for (const auto& f : rep.findings)
    if (f.check == "max-parallelism" && f.message.find("looks derived") != std::string::npos) ++derived;
  EXPECT_EQ(derived, 2);  // source and keyed operator: parallelism 2, max parallelism 128; the sink is stateless
}

}  // namespace
}  // namespace fsp
