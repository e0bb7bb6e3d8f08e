// `check` in a pipeline: three verdicts (compatible 0 / incompatible 1 /
// unknown 2), strict job manifests, SQL state TTL. Each of the three false
// greens found by hand (issue 11) is a regression test over the real file.
#include <unistd.h>

#include <fstream>
#include <set>

#include "flink_savepoint/json.h"
#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const char* kEvolution = "testdata/flink-repo/flink-end-to-end-tests/flink-state-evolution-test/savepoints/";
const char* kRestoreTests = "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/";

// The manifest of StatefulStreamingJob (GROUND_TRUTH 2.7): both operators of the snapshot by uid.
nlohmann::json evolution_job() {
  return nlohmann::json::parse(R"({"operators": [
    {"uid": "my-source"}, {"uid": "my-map", "parallelism": 1}, {"uid": "my-sink", "parallelism": 1}]})");
}

fs::path temp_file(const std::string& tag, const std::string& text) {
  fs::path p = fs::temp_directory_path() / ("fsp-verdict-" + tag + "-" + std::to_string(::getpid()) + ".json");
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  return p;
}

std::multiset<std::string> error_rules(const fsp::CheckReport& r) {
  std::multiset<std::string> s;
  for (const auto& f : r.findings)
    if (f.severity == fsp::Severity::kError) s.insert(f.rule);
  return s;
}

}  // namespace

// False green 1: the Flink 1.6 savepoint's keyed state is in the pre-1.8
// serialization proxy (version 5); Flink 1.17+ cannot restore it.
TEST(CheckFalseGreens, Flink16SavepointOnFlink120IsIncompatible) {
  FSP_REQUIRE_SHARED(shared);
  for (const char* v : {"1.6", "1.7"}) {
    auto sf = fsp::open_snapshot((shared / kEvolution / v).string());
    ASSERT_TRUE(sf.ok()) << v;
    auto job = fsp::parse_job_manifest(evolution_job());
    ASSERT_TRUE(job.ok());
    fsp::CheckOptions o;
    o.target_flink = "1.20";
    auto r = fsp::check_restore(*sf, *job, o);
    EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible) << v;
    EXPECT_EQ(r.exit_code(false), 1) << v;
    std::multiset<std::string> rules = error_rules(r);
    EXPECT_TRUE(rules.count("pre-1.8-snapshot") || rules.count("legacy-serializer-snapshot")) << v;
    for (const auto& f : r.findings)
      if (f.rule == "pre-1.8-snapshot") {
        EXPECT_EQ(f.operator_id, "46fe65c20d95ac360c296fef8820108c");  // my-map holds the keyed state
        EXPECT_EQ(f.severity, fsp::Severity::kError);
      }
    // Flink 1.16 still reads pre-1.8 state: no error.
    o.target_flink = "1.16";
    auto r16 = fsp::check_restore(*sf, *job, o);
    EXPECT_TRUE(error_rules(r16).empty()) << v;
  }
  // The 1.6 file: the keyed proxy itself is version 5.
  auto sf = fsp::open_snapshot((shared / kEvolution / "1.6").string());
  auto job = fsp::parse_job_manifest(evolution_job());
  fsp::CheckOptions o;
  o.target_flink = "1.20";
  auto r = fsp::check_restore(*sf, *job, o);
  ASSERT_EQ(error_rules(r), std::multiset<std::string>{"pre-1.8-snapshot"});
  EXPECT_NE(r.findings[0].message.find("keyed backend serialization proxy version 5"), std::string::npos)
      << r.findings[0].message;
  // CLI: exit 1 and the verdict line.
  fs::path m = temp_file("evo", evolution_job().dump());
  auto c = fsp::test::run_command(fsp::test::cli_path() + " check " + (shared / kEvolution / "1.6").string() + " --job " +
                                  m.string() + " --target-flink 1.20");
  EXPECT_EQ(c.exit_code, 1) << c.out;
  EXPECT_NE(c.out.find("verdict: incompatible"), std::string::npos) << c.out;
  // --no-states is the explicit opt-out: a warning, and the verdict says so.
  auto ns = fsp::test::run_command(fsp::test::cli_path() + " check " + (shared / kEvolution / "1.6").string() + " --job " +
                                   m.string() + " --target-flink 1.20 --no-states");
  EXPECT_EQ(ns.exit_code, 0) << ns.out;
  EXPECT_NE(ns.out.find("[pre-1.8-snapshot]"), std::string::npos) << ns.out;
  EXPECT_NE(ns.out.find("verdict: compatible (--no-states: state files not read"), std::string::npos) << ns.out;
  fs::remove(m);
}

// False green 2: keys the reader does not know are errors with the JSON path
// and a "did you mean".
TEST(CheckFalseGreens, UnknownManifestKeysExit64WithDidYouMean) {
  auto err = [](const std::string& text) {
    auto r = fsp::parse_job_manifest(nlohmann::json::parse(text));
    EXPECT_FALSE(r.ok()) << text;
    if (r.ok()) return std::string();
    EXPECT_EQ(r.error().kind, fsp::ErrorKind::kUsage);  // exit 64
    return r.error().message;
  };
  EXPECT_EQ(err(R"({"operators": [{"uid": "a", "maxParallelism": 128}]})"),
            "job manifest: operators[0].maxParallelism: unknown key \"maxParallelism\" (did you mean \"max_parallelism\"?)");
  EXPECT_EQ(err(R"({"operators": [{"uidHash": "46fe65c20d95ac360c296fef8820108c"}]})"),
            "job manifest: operators[0].uidHash: unknown key \"uidHash\" (did you mean \"uid_hash\"?)");
  EXPECT_EQ(err(R"({"operators": [{"uid": "a"}, {"uid": "b", "paralelism": 2}]})"),
            "job manifest: operators[1].paralelism: unknown key \"paralelism\" (did you mean \"parallelism\"?)");
  EXPECT_EQ(err(R"({"maxParallelism": 128, "operators": []})"),
            "job manifest: maxParallelism: unknown key \"maxParallelism\" (did you mean \"max_parallelism\"?)");
  EXPECT_EQ(err(R"({"operators": [{"uid": "a", "states": [{"name": "s", "knd": "value"}]}]})"),
            "job manifest: operators[0].states[0].knd: unknown key \"knd\" (did you mean \"kind\"?)");
  EXPECT_EQ(err(R"({"operators": [{"uid": "a", "parallelism": "4"}]})"),
            "job manifest: operators[0].parallelism: must be an integer, found a string");
  EXPECT_EQ(err(R"({"operators": [{"uid": "a", "max_parallelism": 40000}]})"),
            "job manifest: operators[0].max_parallelism: must be within 1..32768, found 40000");
  EXPECT_EQ(err(R"({"operators": [{"uid": 7}]})"), "job manifest: operators[0].uid: must be a string, found a number");
  EXPECT_EQ(err(R"({"operators": [{"uid": "a", "states": [{"name": "s", "kind": "vaule"}]}]})").rfind(
                "job manifest: operators[0].states[0].kind: unknown state kind \"vaule\" (did you mean \"value\"?)", 0),
            0u);
  EXPECT_EQ(err(R"({"schema_version": 2, "operators": []})"),
            "job manifest: schema_version: this manifest is schema version 2; this flink-savepoint reads versions up to 1 "
            "(upgrade flink-savepoint)");
  EXPECT_EQ(err(R"({"ignore": ["unmatched-stat"], "operators": []})"),
            "job manifest: ignore[0]: unknown rule \"unmatched-stat\" (did you mean \"unmatched-state\"?); docs/check.md "
            "lists the rules");
  auto ok = fsp::parse_job_manifest(nlohmann::json::parse(R"({"schema_version": 1, "operators": [{"uid": "a"}]})"));
  EXPECT_TRUE(ok.ok());

  // Over the real file, through the CLI: the spelling that gave "compatible" now exits 64.
  FSP_REQUIRE_SHARED(shared);
  fs::path snap = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint";
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  nlohmann::json base = nlohmann::json::parse(in);
  nlohmann::json camel = base;
  camel["operators"][1]["maxParallelism"] = 128;
  fs::path m = temp_file("camel", camel.dump());
  fsp::test::CommandResult c =
      fsp::test::run_command(fsp::test::cli_path() + " check " + snap.string() + " --job " + m.string() + " 2>&1");
  EXPECT_EQ(c.exit_code, 64) << c.out;
  EXPECT_NE(c.out.find("operators[1].maxParallelism: unknown key \"maxParallelism\" (did you mean \"max_parallelism\"?)"),
            std::string::npos)
      << c.out;
  // The right spelling gives the errors the camelCase one hid.
  nlohmann::json snake = base;
  snake["operators"][1]["max_parallelism"] = 128;
  auto job = fsp::parse_job_manifest(snake);
  ASSERT_TRUE(job.ok());
  auto sf = fsp::open_snapshot(snap.string());
  auto r = fsp::check_restore(*sf, *job);
  EXPECT_EQ(error_rules(r), std::multiset<std::string>{"max-parallelism-mismatch"});
  fs::remove(m);
}

// False green 3: a SQL plan whose node state TTL changed (1 s -> 0 ms) against
// its savepoint, restored by Flink 1.20: StateMigrationException.
TEST(CheckFalseGreens, SqlPlanStateTtlChangeIsIncompatible) {
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = shared / kRestoreTests / "stream-exec-group-aggregate_1/agg-with-state-ttl-hint";
  std::ifstream in(dir / "plan/agg-with-state-ttl-hint.json");
  nlohmann::json plan = nlohmann::json::parse(in);
  auto sf = fsp::open_snapshot((dir / "savepoint").string());
  ASSERT_TRUE(sf.ok());
  fsp::CheckOptions o;
  o.target_flink = "1.20";
  {  // unchanged: compatible
    auto job = fsp::parse_sql_plan(plan);
    ASSERT_TRUE(job.ok());
    auto r = fsp::check_restore(*sf, *job, o);
    EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kCompatible) << fsp::report_to_text(r);
  }
  int changed = 0;
  for (auto& n : plan["nodes"])
    if (n.contains("state"))
      for (auto& st : n["state"])
        if (st["ttl"] == "1 s") {
          st["ttl"] = "0 ms";
          ++changed;
        }
  ASSERT_EQ(changed, 1);
  auto job = fsp::parse_sql_plan(plan);
  ASSERT_TRUE(job.ok());
  auto r = fsp::check_restore(*sf, *job, o);
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible);
  EXPECT_EQ(r.exit_code(false), 1);
  ASSERT_EQ(error_rules(r), std::multiset<std::string>{"ttl-changed"});
  const auto& f = r.findings[0];
  EXPECT_EQ(f.flink_error.rfind("org.apache.flink.util.StateMigrationException: ", 0), 0u) << f.flink_error;
  EXPECT_NE(f.message.find("TTL switched off"), std::string::npos) << f.message;
  // SQL-worded: no setUidHash or StateTtlConfig in a fix for a SQL job.
  EXPECT_NE(f.hint.find("STATE_TTL"), std::string::npos) << f.hint;
  EXPECT_NE(f.hint.find("table.exec.state.ttl"), std::string::npos) << f.hint;
  EXPECT_EQ(f.hint.find("setUidHash"), std::string::npos);
  // Flink 2.2 migrates TTL state on the heap backend the savepoint was written with: info only.
  o.target_flink = "2.2";
  o.state_backend = "hashmap";
  auto r22 = fsp::check_restore(*sf, *job, o);
  EXPECT_TRUE(error_rules(r22).empty());
  bool info = false;
  for (const auto& x : r22.findings) info |= x.rule == "ttl-changed" && x.severity == fsp::Severity::kInfo;
  EXPECT_TRUE(info);
}

TEST(CheckSqlPlans, UnmatchedStateFixIsWordedForSql) {
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = shared / kRestoreTests / "stream-exec-group-aggregate_1/agg-with-state-ttl-hint";
  std::ifstream in(dir / "plan/agg-with-state-ttl-hint.json");
  nlohmann::json plan = nlohmann::json::parse(in);
  // Renumber every node: a re-compiled query.
  for (auto& n : plan["nodes"]) n["id"] = n["id"].get<int>() + 100;
  auto sf = fsp::open_snapshot((dir / "savepoint").string());
  auto r = fsp::check_restore(*sf, *fsp::parse_sql_plan(plan));
  ASSERT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible);
  for (const auto& f : r.findings)
    if (f.rule == "unmatched-state") {
      EXPECT_EQ(f.hint.find("setUidHash"), std::string::npos) << f.hint;
      EXPECT_NE(f.hint.find("old compiled plan"), std::string::npos) << f.hint;
      EXPECT_NE(f.hint.find("--allowNonRestoredState"), std::string::npos) << f.hint;
    }
  // Dropped with --allowNonRestoredState: "compatible with state dropped".
  fsp::CheckOptions o;
  o.allow_non_restored_state = true;
  auto r2 = fsp::check_restore(*sf, *fsp::parse_sql_plan(plan), o);
  EXPECT_EQ(r2.verdict_kind(), fsp::Verdict::kCompatible);
  EXPECT_TRUE(r2.state_dropped);
  EXPECT_EQ(r2.verdict_line(), "compatible with state dropped");
}

// Unknown: a rule that could fail was not evaluated. The state files of a
// copy of a real savepoint are removed: its schema rules cannot run.
TEST(CheckVerdict, MissingStateFilesGiveUnknownNamingRulesAndOperator) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint";
  fsp::test::TempDir tmp;
  const fs::path& dir = tmp.path;
  fs::copy_file(src / "_metadata", dir / "_metadata");  // state files left behind
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  auto job = fsp::parse_job_manifest(nlohmann::json::parse(in));
  auto sf = fsp::open_snapshot(dir.string());
  ASSERT_TRUE(sf.ok());
  fsp::CheckOptions o;
  o.state_backend = "rocksdb";
  auto r = fsp::check_restore(*sf, *job, o);
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kUnknown) << fsp::report_to_text(r);
  EXPECT_EQ(r.exit_code(false), 2);
  ASSERT_FALSE(r.unevaluated.empty());
  std::set<std::string> ops;
  for (const auto& u : r.unevaluated) {
    ops.insert(u.operator_id);
    EXPECT_NE(u.rule.find("value-serializer-changed"), std::string::npos) << u.rule;
    EXPECT_EQ(u.reason.rfind("missing:", 0), 0u) << u.reason;
  }
  EXPECT_TRUE(ops.count("d5c8b168c6cbfe8c507a10f88b325243"));  // CheckpointingKeyedStateFlatMap1
  std::string text = fsp::report_to_text(r);
  EXPECT_NE(text.find("not evaluated"), std::string::npos);
  EXPECT_NE(text.find("verdict: unknown"), std::string::npos);
  EXPECT_EQ(fsp::report_to_json(r)["verdict"], "unknown");
  // The CLI exits 2; --ignore of those rules for that operator gives 0.
  fs::path m = fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json";
  auto c = fsp::test::run_command(fsp::test::cli_path() + " check " + dir.string() + " --job " + m.string() +
                                  " --state-backend rocksdb");
  EXPECT_EQ(c.exit_code, 2) << c.out;
  // --no-states: the explicit opt-out is compatible and says so.
  o.read_states = false;
  auto r2 = fsp::check_restore(*sf, *job, o);
  EXPECT_EQ(r2.verdict_kind(), fsp::Verdict::kCompatible);
  EXPECT_TRUE(r2.states_skipped);
}

TEST(CheckVerdict, IgnoreByRuleAndOperator) {
  FSP_REQUIRE_SHARED(shared);
  fs::path snap = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint";
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  nlohmann::json m = nlohmann::json::parse(in);
  m["max_parallelism"] = 8;  // one max-parallelism-mismatch error per operator
  auto sf = fsp::open_snapshot(snap.string());
  auto count = [&](const std::vector<std::string>& ignore, const nlohmann::json& manifest) {
    fsp::CheckOptions o;
    o.ignore = ignore;
    auto r = fsp::check_restore(*sf, *fsp::parse_job_manifest(manifest), o);
    return r.count(fsp::Severity::kError);
  };
  EXPECT_EQ(count({}, m), 8);
  EXPECT_EQ(count({"max-parallelism-mismatch"}, m), 0);
  EXPECT_EQ(count({"max-parallelism-mismatch:CheckpointingKeyedStateFlatMap1"}, m), 7);       // by uid
  EXPECT_EQ(count({"max-parallelism-mismatch:d5c8b168c6cbfe8c507a10f88b325243"}, m), 7);     // by id
  nlohmann::json mi = m;
  mi["operators"][1]["ignore"] = {"max-parallelism-mismatch"};  // in the manifest, on the operator
  EXPECT_EQ(count({}, mi), 7);
  EXPECT_EQ(fsp::test::run_command(fsp::test::cli_path() + " check " + snap.string() + " --job " +
                                   (fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json").string() +
                                   " --ignore no-such-rule 2>/dev/null")
                .exit_code,
            64);
}

// REST GET /jobs/:jobid/plan: job vertices = chain heads; state that matches no
// vertex may be chained (restored) or removed (fails): the verdict is unknown.
TEST(CheckVerdict, RestJobPlanIsChainHeadsOnly) {
  nlohmann::json plan = nlohmann::json::parse(R"({"plan": {"jid": "9b6c", "name": "job", "type": "STREAMING", "nodes": [
    {"id": "69f32d314b97c6f7f9ed7873983167f2", "parallelism": 1, "operator": "", "description": "Source: Custom Source",
     "inputs": [], "optimizer_properties": {}},
    {"id": "d5c8b168c6cbfe8c507a10f88b325243", "parallelism": 4, "operator": "",
     "description": "Flat Map -&gt; timely_stateful_operator -&gt; Sink: Unnamed", "optimizer_properties": {}}]}})");
  EXPECT_EQ(fsp::detect_job_kind(plan), "rest-plan");
  auto job = fsp::parse_rest_plan(plan);
  ASSERT_TRUE(job.ok()) << job.error().to_string();
  ASSERT_EQ(job->operators.size(), 2u);
  EXPECT_TRUE(job->operators[1].chain_head_only);
  EXPECT_EQ(job->operators[1].parallelism, 4);
  EXPECT_FALSE(fsp::parse_rest_plan(nlohmann::json::parse(R"({"plan": {"nodes": [{"id": "xyz"}]}})")).ok());
  FSP_REQUIRE_SHARED(shared);
  auto sf = fsp::open_snapshot(
      (shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint")
          .string());
  ASSERT_TRUE(sf.ok());
  auto r = fsp::check_restore(*sf, *job);
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kUnknown) << fsp::report_to_text(r);
  EXPECT_EQ(r.exit_code(false), 2);
  std::set<std::string> ue;
  for (const auto& u : r.unevaluated) {
    EXPECT_EQ(u.rule, "unmatched-state");
    ue.insert(u.operator_id);
  }
  EXPECT_FALSE(ue.empty());
  EXPECT_FALSE(ue.count("d5c8b168c6cbfe8c507a10f88b325243"));  // a vertex: matched
}
