// Job descriptions for `check`: detection, manifest validation, SQL plan uid
// derivation, REST job details, and the CLI's exit codes.
#include <unistd.h>

#include <cstdio>
#include <set>
#include <fstream>

#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fs = std::filesystem;

TEST(JobSqlPlan, UidFormatPlaceholders) {
  EXPECT_EQ(fsp::sql_transformation_uid("<id>_<transformation>", 3, "stream-exec-sink_1", "constraint-validator"),
            "3_constraint-validator");
  EXPECT_EQ(fsp::sql_transformation_uid("x-<id>_<type>_<version>_<transformation>", 12, "stream-exec-sink_2", "sink"),
            "x-12_stream-exec-sink_2_sink");
  EXPECT_EQ(fsp::sql_transformation_names("stream-exec-table-source-scan_2"), std::vector<std::string>{"source"});
  EXPECT_EQ(fsp::sql_transformation_names("stream-exec-group-aggregate_1"), std::vector<std::string>{"group-aggregate"});
  EXPECT_TRUE(fsp::sql_transformation_names("stream-exec-exchange_1").empty());
  EXPECT_EQ(fsp::sql_transformation_names("stream-exec-sort-limit_1"), std::vector<std::string>{"rank"});
}

TEST(JobSqlPlan, DerivesTheUidsOfCalcSimple) {
  // GROUND_TRUTH 2.9: 1_source = d3f21cab..., 2_calc = 80d5a788..., 3_sink = 33d9da1e...
  nlohmann::json plan = {{"flinkVersion", "1.19"},
                         {"nodes",
                          {{{"id", 1}, {"type", "stream-exec-table-source-scan_1"}},
                           {{"id", 2}, {"type", "stream-exec-calc_1"}},
                           {{"id", 3}, {"type", "stream-exec-sink_1"}, {"configuration", {{"table.exec.uid.format", "<id>_<transformation>"}}}}}}};
  EXPECT_EQ(fsp::detect_job_kind(plan), "sql-plan");
  auto job = fsp::parse_sql_plan(plan);
  ASSERT_TRUE(job.ok());
  std::set<std::string> ids;
  for (const auto& o : job->operators)
    for (const auto& id : o.ids()) ids.insert(fsp::hex(id));
  EXPECT_TRUE(ids.count("d3f21cabc6fe0fdf76c8be915bdb22a2"));
  EXPECT_TRUE(ids.count("80d5a788fcf41d1608d5ea6cc404a286"));
  EXPECT_TRUE(ids.count("33d9da1ec658786e43c6e2897c9e6bac"));
}

TEST(JobSqlPlan, ProcessTableFunctionUsesThePlanUid) {
  nlohmann::json plan = {{"nodes", {{{"id", 4}, {"type", "stream-exec-process-table-function_1"}, {"uid", "f"}}}}};
  auto job = fsp::parse_sql_plan(plan);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->operators.size(), 1u);
  EXPECT_EQ(job->operators[0].uid, "f");
}

TEST(JobManifest, ParsesAndValidates) {
  nlohmann::json m = nlohmann::json::parse(R"({
    "flink_version": "1.20", "state_backend": "RocksDB", "max_parallelism": 256,
    "operators": [
      {"uid": "a", "parallelism": 2},
      {"uid_hash": "0123456789abcdef0123456789ABCDEF", "name": "pinned", "max_parallelism": 64,
       "states": [{"name": "s", "kind": "Value", "ttl": "1 h"}]},
      {"operator_id": "330bf7ad4176e7c36829a4bf9459db07"}
    ]})");
  EXPECT_EQ(fsp::detect_job_kind(m), "manifest");
  auto job = fsp::parse_job_manifest(m);
  ASSERT_TRUE(job.ok()) << job.error().to_string();
  EXPECT_EQ(job->state_backend, "rocksdb");
  ASSERT_EQ(job->operators.size(), 3u);
  EXPECT_EQ(job->operators[0].max_parallelism, 256);  // job-wide, explicit
  EXPECT_TRUE(job->operators[0].max_parallelism_explicit);
  EXPECT_EQ(job->operators[1].max_parallelism, 64);
  EXPECT_EQ(fsp::hex(*job->operators[0].generated_id()), fsp::hex(fsp::operator_id_from_uid("a")));
  ASSERT_TRUE(job->operators[1].states);
  EXPECT_TRUE(*(*job->operators[1].states)[0].ttl);
  EXPECT_EQ(job->operators[1].ids().size(), 1u);

  auto bad = [](const char* text) {
    auto r = fsp::parse_job_manifest(nlohmann::json::parse(text));
    EXPECT_FALSE(r.ok()) << text;
    if (!r.ok()) {
      EXPECT_EQ(r.error().kind, fsp::ErrorKind::kUsage);
    }
  };
  bad(R"({"operators": [{"uid": "a"}, {"uid": "a"}]})");
  bad(R"({"operators": [{"uid_hash": "xyz"}]})");
  bad(R"({"state_backend": "memory", "operators": []})");
  bad(R"({"operators": [{"uid": "a", "parallelism": 0}]})");
  bad(R"({"flink_version": "two", "operators": []})");
}

TEST(JobRest, VerticesAreChainHeads) {
  nlohmann::json j = {{"jid", "abc"},
                      {"vertices",
                       {{{"id", "d5c8b168c6cbfe8c507a10f88b325243"}, {"name", "Flat Map"}, {"parallelism", 4}, {"maxParallelism", 4}}}}};
  EXPECT_EQ(fsp::detect_job_kind(j), "rest");
  auto job = fsp::parse_rest_job(j);
  ASSERT_TRUE(job.ok());
  EXPECT_FALSE(job->complete);
  EXPECT_TRUE(job->operators[0].chain_head_only);
  EXPECT_EQ(job->operators[0].max_parallelism, 4);
  EXPECT_FALSE(job->operators[0].max_parallelism_explicit);
}

TEST(JobRest, UnmatchedStateIsAWarningNotAnError) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = fsp::open_snapshot(
      (shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint")
          .string());
  ASSERT_TRUE(sf.ok());
  nlohmann::json j = {{"vertices",
                       {{{"id", "69f32d314b97c6f7f9ed7873983167f2"}, {"parallelism", 1}, {"maxParallelism", 4}},
                        {{"id", "d5c8b168c6cbfe8c507a10f88b325243"}, {"parallelism", 4}, {"maxParallelism", 128}}}}};
  auto job = fsp::parse_rest_job(j);
  ASSERT_TRUE(job.ok());
  auto r = fsp::check_restore(*sf, *job);
  // No error, but state that may belong to a chained operator cannot be judged: unknown, not compatible.
  EXPECT_FALSE(r.has_errors());
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kUnknown);
  int chained = 0, maxpar = 0;
  for (const auto& f : r.findings) {
    chained += f.rule == "unverifiable-chained-state";
    maxpar += f.rule == "max-parallelism-mismatch" && f.severity == fsp::Severity::kWarning;
  }
  EXPECT_GT(chained, 0);
  EXPECT_EQ(maxpar, 1);
}

TEST(JobSnapshot, ASnapshotOfTheSameJobIsCompatible) {
  FSP_REQUIRE_SHARED(shared);
  fs::path res = shared / "testdata/flink-repo/flink-tests/src/test/resources";
  auto old_sf = fsp::open_snapshot((res / "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint").string());
  ASSERT_TRUE(old_sf.ok());
  auto job = fsp::load_job((res / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint").string());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->kind, "snapshot");
  auto r = fsp::check_restore(*old_sf, *job);
  EXPECT_TRUE(r.compatible());
  // A broadcast job's snapshot as the "new job": the udf job's keyed state has no operator.
  auto other = fsp::load_job((res / "new-stateful-broadcast-udf-migration-itcase-flink2.0-hashmap-savepoint").string());
  ASSERT_TRUE(other.ok());
  auto r2 = fsp::check_restore(*old_sf, *other);
  EXPECT_FALSE(r2.compatible());
}

TEST(JobSchemaRules, SerializerKindAndTtlChanges) {
  FSP_REQUIRE_SHARED(shared);
  fs::path snap = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint";
  auto sf = fsp::open_snapshot(snap.string());
  ASSERT_TRUE(sf.ok());
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  nlohmann::json base = nlohmann::json::parse(in);
  auto run = [&](const nlohmann::json& m, const std::string& target) {
    fsp::CheckOptions o;
    o.target_flink = target;
    o.state_backend = "rocksdb";
    return fsp::check_restore(*sf, *fsp::parse_job_manifest(m), o);
  };
  auto rules = [](const fsp::CheckReport& r) {
    std::multiset<std::string> s;
    for (const auto& f : r.findings)
      if (f.severity == fsp::Severity::kError) s.insert(f.rule);
    return s;
  };
  auto mutate = [&](const char* field, nlohmann::json v) {
    nlohmann::json m = base;
    m["operators"][1]["states"][0][field] = v;  // CheckpointingKeyedStateFlatMap1 / state-name
    return m;
  };
  EXPECT_TRUE(rules(run(base, "1.20")).empty());
  EXPECT_EQ(rules(run(mutate("kind", "list"), "1.20")), std::multiset<std::string>{"state-kind-changed"});
  EXPECT_EQ(rules(run(mutate("key_serializer", "LongSerializer"), "1.20")), std::multiset<std::string>{"key-serializer-changed"});
  EXPECT_EQ(rules(run(mutate("value_serializer", "StringSerializer"), "1.20")), std::multiset<std::string>{"value-serializer-changed"});
  EXPECT_EQ(rules(run(mutate("ttl", "1 h"), "1.20")), std::multiset<std::string>{"ttl-changed"});
  EXPECT_TRUE(rules(run(mutate("ttl", "1 h"), "2.1")).empty());  // RocksDB migrates TTL since 2.1
  auto r = run(mutate("kind", "map"), "1.20");
  for (const auto& f : r.findings)
    if (f.rule == "state-kind-changed") {
      EXPECT_EQ(f.flink_error, "Incompatible key/value state types. Was [VALUE], registered with [MAP].");
    }
}

TEST(JobVersionRules, DowngradeAndMetadataVersions) {
  FSP_REQUIRE_SHARED(shared);
  fs::path res = shared / "testdata/flink-repo/flink-tests/src/test/resources";
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  nlohmann::json base = nlohmann::json::parse(in);
  auto job = fsp::parse_job_manifest(base);
  auto run = [&](const char* snap, const char* target) {
    auto sf = fsp::open_snapshot((res / snap).string());
    fsp::CheckOptions o;
    o.target_flink = target;
    return fsp::check_restore(*sf, *job, o);
  };
  auto r = run("new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint", "1.20");  // v5 needs 2.0
  ASSERT_FALSE(r.compatible());
  EXPECT_EQ(r.findings[0].rule, "flink-downgrade");
  EXPECT_EQ(r.findings[0].flink_error, "Unrecognized checkpoint version number: 5");
  EXPECT_FALSE(run("new-stateful-udf-migration-itcase-flink2.3-rocksdb-savepoint", "2.0").compatible());  // v6 needs 2.1
  EXPECT_FALSE(run("new-stateful-udf-migration-itcase-flink1.16-rocksdb-savepoint", "1.15").compatible());  // v4 needs 1.16
  EXPECT_TRUE(run("new-stateful-udf-migration-itcase-flink1.16-rocksdb-savepoint", "1.16").compatible());
}

TEST(JobCli, ExitCodesJsonAndJunit) {
  FSP_REQUIRE_SHARED(shared);
  std::string cli = fsp::test::cli_path();
  fs::path snap = shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-savepoint-native";
  fs::path job = fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json";
  auto ok = fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() + " --state-backend rocksdb --json");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  auto j = nlohmann::json::parse(ok.out);
  EXPECT_EQ(j["verdict"], "compatible");
  // --strict: warnings fail. The uid-less sinks hold no state (missing-uid is info); a RocksDB native
  // savepoint restored into ForSt is a warning.
  auto strict = fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() + " --state-backend rocksdb --strict");
  EXPECT_EQ(strict.exit_code, 0);
  EXPECT_EQ(fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() + " --state-backend forst").exit_code, 0);
  EXPECT_EQ(fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() + " --state-backend forst --strict").exit_code, 1);
  fs::path junit = fs::temp_directory_path() / ("fsp-check-junit-" + std::to_string(::getpid()) + ".xml");
  auto bad = fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() +
                                    " --state-backend hashmap --json --junit " + junit.string());
  EXPECT_EQ(bad.exit_code, 1);
  auto jb = nlohmann::json::parse(bad.out);
  EXPECT_EQ(jb["verdict"], "incompatible");
  ASSERT_FALSE(jb["findings"].empty());
  for (const char* k : {"severity", "rule", "operator_id", "uid", "message", "flink_error", "hint"})
    EXPECT_TRUE(jb["findings"][0].contains(k)) << k;
  std::string xml = fsp::test::read_file(junit);
  EXPECT_NE(xml.find("<testsuites"), std::string::npos);
  EXPECT_NE(xml.find("<failure"), std::string::npos);
  fs::remove(junit);
  EXPECT_EQ(fsp::test::run_command(cli + " check " + snap.string() + " --job /nonexistent/job.json").exit_code, 66);
  EXPECT_EQ(fsp::test::run_command(cli + " check " + snap.string() + " --job " + job.string() + " --target-flink x").exit_code, 64);
  fs::path junk = fs::temp_directory_path() / ("fsp-check-junk-" + std::to_string(::getpid()) + ".json");
  { std::ofstream(junk) << "{\"hello\": 1}"; }
  EXPECT_EQ(fsp::test::run_command(cli + " check " + snap.string() + " --job " + junk.string()).exit_code, 64);
  fs::remove(junk);
}

// A manifest's ttl string is a duration: "0s" / "0 min" mean no TTL, as "0 ms"
// and "0" do. Against a savepoint whose state has TTL, a manifest that says
// "0s" removes it: ttl-changed (it once read "0s" as TTL on: a false
// "compatible").
TEST(JobSchemaRules, ZeroDurationTtlAgainstATtlStateIsATtlChange) {
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = shared / "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/"
                          "stream-exec-group-aggregate_1/agg-with-state-ttl-hint/savepoint";
  auto sf = fsp::open_snapshot(dir.string());
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  fsp::StateReadOptions ro;
  ro.statistics = false;
  auto st = fsp::read_states(*sf, ro);
  ASSERT_TRUE(st.ok());
  const nlohmann::json emitted = fsp::emit_job_manifest(*sf, &*st);
  auto with_ttl = [&](const nlohmann::json& ttl) {
    nlohmann::json m = emitted;
    int n = 0;
    for (auto& op : m["operators"])
      if (op.contains("states"))
        for (auto& s : op["states"])
          if (s.value("ttl", false) == true) {
            s["ttl"] = ttl;
            ++n;
          }
    EXPECT_EQ(n, 1) << "TTL states in " << dir;
    return m;
  };
  auto ttl_rules = [&](const nlohmann::json& ttl) {
    auto job = fsp::parse_job_manifest(with_ttl(ttl));
    EXPECT_TRUE(job.ok()) << job.error().to_string();
    fsp::CheckOptions o;
    o.target_flink = "1.20";
    o.state_backend = "hashmap";
    auto r = fsp::check_restore(*sf, *job, o);
    std::multiset<std::string> s;
    for (const auto& f : r.findings)
      if (f.rule == "ttl-changed") s.insert(f.rule + (f.severity == fsp::Severity::kError ? ":error" : ":other"));
    return s;
  };
  const std::multiset<std::string> changed{"ttl-changed:error"};
  EXPECT_TRUE(ttl_rules(true).empty());
  EXPECT_TRUE(ttl_rules("1 h").empty());
  EXPECT_EQ(ttl_rules(false), changed);
  EXPECT_EQ(ttl_rules("0 ms"), changed);
  EXPECT_EQ(ttl_rules("0s"), changed);
  EXPECT_EQ(ttl_rules("0 min"), changed);
  // The parsed state says so too: one more state without TTL than with ttl true.
  auto without_ttl = [&](const nlohmann::json& ttl) {
    auto job = fsp::parse_job_manifest(with_ttl(ttl));
    EXPECT_TRUE(job.ok());
    int off = 0;
    if (job.ok())
      for (const auto& op : job->operators)
        if (op.states)
          for (const auto& s : *op.states) off += s.ttl.has_value() && !*s.ttl;
    return off;
  };
  EXPECT_EQ(without_ttl("0s"), without_ttl(true) + 1);
  EXPECT_EQ(without_ttl("0 min"), without_ttl(true) + 1);
}
