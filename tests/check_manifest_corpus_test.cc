// `inspect --emit-manifest` over every real snapshot in ../shared that
// decodes: `check SNAP --job <(inspect --emit-manifest SNAP)` is compatible
// with zero warnings; dropping any one stateful operator from that manifest
// gives `unmatched-state`; changing its max parallelism gives
// `max-parallelism-mismatch`. The figures are printed for the note.
#include <fstream>
#include <iostream>

#include "flink_savepoint/json.h"
#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

bool has_error(const fsp::CheckReport& r, const std::string& rule, const std::string& op) {
  for (const auto& f : r.findings)
    if (f.severity == fsp::Severity::kError && f.rule == rule && f.operator_id == op) return true;
  return false;
}

std::string summary(const fsp::CheckReport& r) {
  std::string s = std::string(r.verdict()) + ":";
  for (const auto& f : r.findings)
    if (f.severity != fsp::Severity::kInfo) s += " [" + f.rule + " " + f.operator_id + "] " + f.message + ";";
  for (const auto& u : r.unevaluated) s += " (not evaluated " + u.rule + " " + u.operator_id + ": " + u.reason + ")";
  return s;
}

}  // namespace

TEST(CheckEmittedManifest, EveryRealSnapshotAgainstItsOwnManifestAndItsMutations) {
  FSP_REQUIRE_SHARED(shared);
  auto rows = fsp::test::manifest();
  ASSERT_GE(rows.size(), 400u);
  int snapshots = 0, undecodable = 0, with_state = 0, wrong_base = 0, wrong_drop = 0, wrong_maxpar = 0;
  int drop_checks = 0, maxpar_checks = 0;
  for (const auto& row : rows) {
    fs::path p = shared / "testdata/flink-repo" / row.path;
    auto sf = fsp::open_snapshot(p.string());
    if (!sf) {
      ++undecodable;
      continue;
    }
    ++snapshots;
    fsp::StateReadOptions ro;
    ro.statistics = false;
    auto st = fsp::read_states(*sf, ro);
    std::shared_ptr<const std::vector<fsp::OperatorStates>> states;
    if (st) states = std::make_shared<const std::vector<fsp::OperatorStates>>(std::move(*st));
    const nlohmann::json manifest = fsp::emit_job_manifest(*sf, states.get());
    auto job = fsp::parse_job_manifest(manifest);
    ASSERT_TRUE(job.ok()) << row.path << ": " << job.error().to_string() << "\n" << manifest.dump(1);
    fsp::CheckOptions o;
    o.states = states;
    auto r = fsp::check_restore(*sf, *job, o);
    if (r.verdict_kind() != fsp::Verdict::kCompatible || r.count(fsp::Severity::kWarning) != 0) {
      ++wrong_base;
      ADD_FAILURE() << row.path << ": " << summary(r);
    }
    bool any_state = false;
    const auto& ops = sf->snapshot.operators;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!ops[i].has_state()) continue;
      any_state = true;
      const std::string id = ops[i].id_hex();
      {  // drop it
        nlohmann::json m = manifest;
        m["operators"].erase(m["operators"].begin() + static_cast<std::ptrdiff_t>(i));
        auto rr = fsp::check_restore(*sf, *fsp::parse_job_manifest(m), o);
        ++drop_checks;
        if (rr.verdict_kind() != fsp::Verdict::kIncompatible || !has_error(rr, "unmatched-state", id)) {
          ++wrong_drop;
          ADD_FAILURE() << row.path << " without " << id << ": " << summary(rr);
        }
      }
      {  // change its max parallelism
        nlohmann::json m = manifest;
        int mp = ops[i].max_parallelism;
        m["operators"][i]["max_parallelism"] = mp >= 32768 ? mp - 1 : mp + 1;
        auto rr = fsp::check_restore(*sf, *fsp::parse_job_manifest(m), o);
        ++maxpar_checks;
        if (rr.verdict_kind() != fsp::Verdict::kIncompatible || !has_error(rr, "max-parallelism-mismatch", id)) {
          ++wrong_maxpar;
          ADD_FAILURE() << row.path << " max parallelism of " << id << ": " << summary(rr);
        }
      }
    }
    with_state += any_state;
  }
  std::cout << "[ check ] emitted manifests: " << snapshots << " snapshots decoded (" << undecodable
            << " do not decode), " << wrong_base << " not compatible-with-zero-warnings; mutation scenarios: 2 kinds x "
            << with_state << " snapshots with state = " << 2 * with_state << " (" << drop_checks << " operators dropped, "
            << maxpar_checks << " max parallelisms changed), wrong verdicts: " << wrong_drop + wrong_maxpar << "\n";
  EXPECT_GE(snapshots, 400);
  EXPECT_EQ(wrong_base + wrong_drop + wrong_maxpar, 0);
}

// The CLI end to end, through a pipe as a CI script would write it.
TEST(CheckEmittedManifest, CliThroughAPipe) {
  FSP_REQUIRE_SHARED(shared);
  std::string snap =
      (shared / "testdata/flink-repo/flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint")
          .string();
  std::string cli = fsp::test::cli_path();
  auto m = fsp::test::run_command(cli + " inspect --emit-manifest " + snap);
  ASSERT_EQ(m.exit_code, 0);
  auto j = nlohmann::json::parse(m.out);
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_EQ(j["operators"].size(), 8u);
  bool found = false;
  for (const auto& o : j["operators"])
    if (o.value("uid", "") == "CheckpointingKeyedStateFlatMap1") {
      found = true;
      EXPECT_EQ(o["max_parallelism"], 4);
      ASSERT_TRUE(o.contains("states"));
      EXPECT_EQ(o["states"][0]["name"], "state-name");
      EXPECT_EQ(o["states"][0]["kind"], "value");
    }
  EXPECT_TRUE(found);
  auto c = fsp::test::run_command("bash -c '" + cli + " check " + snap + " --job <(" + cli + " inspect --emit-manifest " +
                                  snap + ")'");
  EXPECT_EQ(c.exit_code, 0) << c.out;
  EXPECT_NE(c.out.find("verdict: compatible (0 error(s), 0 warning(s)"), std::string::npos) << c.out;
}
