// `check --config` / `--deployment`: Flink's config.yaml (nested and flat),
// flink-conf.yaml and Flink Kubernetes Operator resources (YAML and JSON),
// applied to a real check.
#include <unistd.h>

#include <fstream>

#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "test_support.h"

namespace fs = std::filesystem;

TEST(JobConfig, ConfigYamlNestedAndFlat) {
  auto nested = fsp::parse_job_settings(R"(
state:
  backend:
    type: rocksdb
pipeline:
  max-parallelism: 256
parallelism:
  default: 3
execution:
  state-recovery:
    claim-mode: CLAIM
    ignore-unclaimed-state: true
)", "config.yaml");
  ASSERT_TRUE(nested.ok()) << nested.error().to_string();
  EXPECT_EQ(nested->kind, "flink-config");
  EXPECT_EQ(nested->state_backend, "rocksdb");
  EXPECT_EQ(nested->max_parallelism, 256);
  EXPECT_EQ(nested->parallelism, 3);
  EXPECT_EQ(nested->claim_mode, "claim");
  EXPECT_EQ(nested->allow_non_restored_state, std::optional<bool>(true));
  // Legacy flink-conf.yaml: flat keys, old names.
  auto flat = fsp::parse_job_settings("state.backend: filesystem\npipeline.max-parallelism: 128\n"
                                      "execution.savepoint.ignore-unclaimed-state: false\n",
                                      "flink-conf.yaml");
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->state_backend, "hashmap");
  EXPECT_EQ(flat->max_parallelism, 128);
  EXPECT_EQ(flat->allow_non_restored_state, std::optional<bool>(false));
  // Bad values are usage errors naming the key.
  auto bad = fsp::parse_job_settings("pipeline.max-parallelism: lots\n", "c.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, fsp::ErrorKind::kUsage);  // exit 64
  EXPECT_NE(bad.error().message.find("pipeline.max-parallelism"), std::string::npos);
  EXPECT_FALSE(fsp::parse_job_settings("state.backend.type: cassandra\n", "c.yaml").ok());
  EXPECT_FALSE(fsp::parse_job_settings("key: [unclosed\n", "c.yaml").ok());
  EXPECT_FALSE(fsp::parse_job_settings("- a\n- b\n", "c.yaml").ok());
}

TEST(JobConfig, FlinkDeploymentYamlAndJson) {
  const char* yaml = R"(
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: orders
spec:
  flinkVersion: v1_20
  flinkConfiguration:
    state.backend.type: hashmap
    pipeline.max-parallelism: "8"
    execution.state-recovery.claim-mode: no_claim
  job:
    jarURI: local:///opt/flink/usrlib/job.jar
    parallelism: 2
    upgradeMode: savepoint
    allowNonRestoredState: false
)";
  auto d = fsp::parse_job_settings(yaml, "deploy.yaml");
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->kind, "FlinkDeployment");
  EXPECT_EQ(d->flink_version, "1.20");
  EXPECT_EQ(d->state_backend, "hashmap");
  EXPECT_EQ(d->max_parallelism, 8);
  EXPECT_EQ(d->parallelism, 2);
  EXPECT_EQ(d->upgrade_mode, "savepoint");
  EXPECT_EQ(d->claim_mode, "no_claim");
  auto j = fsp::parse_job_settings(
      R"({"kind": "FlinkSessionJob", "spec": {"job": {"parallelism": 4, "allowNonRestoredState": true},
          "flinkConfiguration": {"state.backend.type": "rocksdb"}}})",
      "session.json");
  ASSERT_TRUE(j.ok()) << j.error().to_string();
  EXPECT_EQ(j->kind, "FlinkSessionJob");
  EXPECT_EQ(j->parallelism, 4);
  EXPECT_EQ(j->state_backend, "rocksdb");
  EXPECT_EQ(j->allow_non_restored_state, std::optional<bool>(true));
  EXPECT_FALSE(fsp::parse_job_settings("kind: FlinkDeployment\nspec:\n  flinkVersion: latest\n", "d.yaml").ok());

  // Applied to a real check: the deployment's pipeline.max-parallelism 8 is
  // explicit, so a SQL plan (which carries none) against its savepoint fails
  // on max parallelism, and the backend/version rules run.
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = shared / "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/"
                          "stream-exec-group-aggregate_1/agg-with-state-ttl-hint";
  auto job = fsp::load_job((dir / "plan/agg-with-state-ttl-hint.json").string());
  ASSERT_TRUE(job.ok());
  fsp::apply_job_settings(*d, *job);
  auto sf = fsp::open_snapshot((dir / "savepoint").string());
  auto r = fsp::check_restore(*sf, *job);
  EXPECT_EQ(r.target_flink, "1.20");
  EXPECT_EQ(r.state_backend, "hashmap");
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible);
  int mp = 0;
  for (const auto& f : r.findings) mp += f.rule == "max-parallelism-mismatch" && f.severity == fsp::Severity::kError;
  EXPECT_GE(mp, 1);
  // Through the CLI.
  fs::path p = fs::temp_directory_path() / ("fsp-deploy-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(p) << yaml;
  auto c = fsp::test::run_command(fsp::test::cli_path() + " check " + (dir / "savepoint").string() + " --job " +
                                  (dir / "plan/agg-with-state-ttl-hint.json").string() + " --deployment " + p.string());
  EXPECT_EQ(c.exit_code, 1) << c.out;
  EXPECT_NE(c.out.find("target:    Flink 1.20, state backend hashmap"), std::string::npos) << c.out;
  fs::remove(p);
}

// Fuzz finding (job_yaml, 2026-12-01): a flinkVersion of 30 digits overflowed int in
// parse_flink_version (UBSan: signed integer overflow, src/analysis/job_load.cc). Too long a
// number is not a version.
TEST(JobConfig, FlinkVersionWithAHugeNumberIsNotAVersion) {
  int major = 0, minor = 0;
  EXPECT_FALSE(fsp::parse_flink_version("1777777777777777777777777777.20", major, minor));
  EXPECT_FALSE(fsp::parse_flink_version("1.777777777777777777777", major, minor));
  ASSERT_TRUE(fsp::parse_flink_version("1.20", major, minor));
  EXPECT_EQ(major, 1);
  EXPECT_EQ(minor, 20);
}
