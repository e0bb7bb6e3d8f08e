// `check` over Flink's own test snapshots (../shared/testdata):
//  - every SQL restore test: its compiled plan against its own savepoint is
//    compatible; a plan against a savepoint holding a stateful node the plan
//    lacks is incompatible;
//  - every StatefulJob migration snapshot against a manifest from
//    GROUND_TRUTH.md is compatible; mutations of it give exactly the expected
//    error with Flink's exception text.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/summary.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRestoreTests = "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests";
const fs::path kFlinkTests = "testdata/flink-repo/flink-tests/src/test/resources";

struct Pair {
  fs::path dir;   // <node>/<test>
  fs::path plan;  // plan/*.json
};

std::vector<Pair> sql_pairs(const fs::path& shared) {
  std::vector<Pair> out;
  fs::path root = shared / kRestoreTests;
  for (const auto& node : fs::directory_iterator(root)) {
    if (!node.is_directory()) continue;
    for (const auto& test : fs::directory_iterator(node.path())) {
      if (!fs::exists(test.path() / "savepoint" / "_metadata") || !fs::is_directory(test.path() / "plan")) continue;
      for (const auto& p : fs::directory_iterator(test.path() / "plan"))
        if (p.path().extension() == ".json") out.push_back({test.path(), p.path()});
    }
  }
  std::sort(out.begin(), out.end(), [](const Pair& a, const Pair& b) { return a.dir < b.dir; });
  return out;
}

fsp::NewJob load(const fs::path& p) {
  auto j = fsp::load_job(p.string());
  EXPECT_TRUE(j.ok()) << p << ": " << (j.ok() ? "" : j.error().to_string());
  return j.ok() ? std::move(*j) : fsp::NewJob{};
}

std::string node_type_of_dir(const fs::path& test_dir) {
  std::string n = test_dir.parent_path().filename().string();  // stream-exec-group-aggregate_1
  if (auto us = n.rfind('_'); us != std::string::npos) n = n.substr(0, us);
  return n;
}

std::string errors_of(const fsp::CheckReport& r) {
  std::string s;
  for (const auto& f : r.findings)
    if (f.severity == fsp::Severity::kError) s += "  [" + f.rule + "] " + f.operator_id + " " + f.message + "\n";
  return s;
}

}  // namespace

TEST(CheckSqlPlans, EveryPlanIsCompatibleWithItsOwnSavepoint) {
  FSP_REQUIRE_SHARED(shared);
  auto pairs = sql_pairs(shared);
  ASSERT_GE(pairs.size(), 290u);
  size_t matched_ops = 0, total_ops = 0;
  for (const auto& p : pairs) {
    auto sf = fsp::open_snapshot((p.dir / "savepoint").string());
    ASSERT_TRUE(sf.ok()) << p.dir;
    fsp::NewJob job = load(p.plan);
    ASSERT_EQ(job.kind, "sql-plan");
    fsp::CheckReport r = fsp::check_restore(*sf, job);
    EXPECT_TRUE(r.compatible()) << p.dir << "\n" << errors_of(r);
    EXPECT_EQ(r.count(fsp::Severity::kWarning), 0) << p.dir;
    for (const auto& m : r.matches) matched_ops += m.job_index >= 0;
    total_ops += r.matches.size();
  }
  // Every operator but two empty ones (interval-join-negative-interval) maps to a derived uid.
  EXPECT_GE(matched_ops + 2, total_ops);
  std::cout << "[ check ] " << pairs.size() << " plan/savepoint pairs compatible; " << matched_ops << "/" << total_ops
            << " snapshot operators matched by derived uids\n";
}

TEST(CheckSqlPlans, PlanAgainstAnotherTestsSavepointIsIncompatible) {
  FSP_REQUIRE_SHARED(shared);
  auto pairs = sql_pairs(shared);
  // Savepoints by node type.
  std::map<std::string, std::vector<const Pair*>> by_type;
  for (const auto& p : pairs) by_type[node_type_of_dir(p.dir)].push_back(&p);
  // Stateful node types: their savepoints hold state under that node's uid.
  const std::vector<std::string> stateful = {"stream-exec-group-aggregate", "stream-exec-join", "stream-exec-rank",
                                             "stream-exec-over-aggregate", "stream-exec-deduplicate",
                                             "stream-exec-window-aggregate", "stream-exec-match"};
  int checked = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& p = pairs[i];
    std::ifstream in(p.plan);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A stateful type the plan does not use at all.
    std::string other;
    for (size_t k = 0; k < stateful.size(); ++k) {
      const std::string& t = stateful[(i + k) % stateful.size()];
      if (text.find("\"" + t + "_") == std::string::npos && by_type.count(t)) {
        other = t;
        break;
      }
    }
    ASSERT_FALSE(other.empty()) << p.plan;
    const auto& cands = by_type[other];
    const Pair* q = cands[i % cands.size()];
    auto sf = fsp::open_snapshot((q->dir / "savepoint").string());
    ASSERT_TRUE(sf.ok());
    fsp::CheckReport r = fsp::check_restore(*sf, load(p.plan));
    EXPECT_FALSE(r.compatible()) << p.plan << " vs " << q->dir;
    for (const auto& f : r.findings)
      if (f.severity == fsp::Severity::kError) {
        EXPECT_EQ(f.rule, "unmatched-state");
        EXPECT_NE(f.flink_error.find("Cannot map checkpoint/savepoint state for operator " + f.operator_id +
                                     " to the new program"),
                  std::string::npos);
      }
    ++checked;
  }
  std::cout << "[ check ] " << checked << " cross pairs (plan vs another test's savepoint) incompatible\n";
}

// ---------------------------------------------------------------------------
// StatefulJob migration snapshots.

namespace {

struct Snap {
  std::string dir;
  bool broadcast;
  std::string backend;  // hashmap | rocksdb (memory = hashmap)
  bool native_or_checkpoint;
};

std::vector<Snap> stateful_snapshots(const fs::path& shared) {
  std::vector<Snap> out;
  for (const auto& e : fs::directory_iterator(shared / kFlinkTests)) {
    std::string n = e.path().filename().string();
    if (n.rfind("new-stateful-", 0) != 0 || !fs::exists(e.path() / "_metadata")) continue;
    Snap s;
    s.dir = e.path().string();
    s.broadcast = n.find("broadcast") != std::string::npos;
    s.backend = n.find("-rocksdb-") != std::string::npos ? "rocksdb" : "hashmap";
    s.native_or_checkpoint = n.find("savepoint-native") != std::string::npos || n.find("-checkpoint") != std::string::npos;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const Snap& a, const Snap& b) { return a.dir < b.dir; });
  return out;
}

nlohmann::json manifest_json(bool broadcast) {
  fs::path p = fs::path(FSP_SOURCE_DIR) / "testdata/jobs" / (broadcast ? "stateful-broadcast-job.json" : "stateful-udf-job.json");
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

fsp::CheckReport check(const Snap& s, const nlohmann::json& m, const std::string& backend) {
  auto sf = fsp::open_snapshot(s.dir);
  EXPECT_TRUE(sf.ok()) << s.dir;
  auto job = fsp::parse_job_manifest(m);
  EXPECT_TRUE(job.ok());
  fsp::CheckOptions o;
  o.state_backend = backend;
  return fsp::check_restore(*sf, *job, o);
}

// All errors have `rule`; returns how many.
int only_rule(const fsp::CheckReport& r, const std::string& rule, const std::string& where) {
  int n = 0;
  for (const auto& f : r.findings)
    if (f.severity == fsp::Severity::kError) {
      EXPECT_EQ(f.rule, rule) << where << ": " << f.message;
      ++n;
    }
  return n;
}

}  // namespace

TEST(CheckStatefulJob, EverySnapshotIsCompatibleWithItsManifest) {
  FSP_REQUIRE_SHARED(shared);
  auto snaps = stateful_snapshots(shared);
  ASSERT_EQ(snaps.size(), 148u);
  for (const auto& s : snaps) {
    auto r = check(s, manifest_json(s.broadcast), s.backend);
    EXPECT_TRUE(r.compatible()) << s.dir << "\n" << errors_of(r);
    // All 8 operators match (6 by uid, the 2 sinks by operator_id).
    int matched = 0;
    for (const auto& m : r.matches) matched += m.job_index >= 0;
    EXPECT_EQ(matched, 8) << s.dir;
    // The only warnings: the two sinks have no uid (and unaligned version steps).
    for (const auto& f : r.findings)
      if (f.severity == fsp::Severity::kWarning) {
        
          EXPECT_TRUE(f.rule == "missing-uid" || f.rule == "unaligned-version-upgrade") << s.dir << ": " << f.rule;
      }
  }
}

TEST(CheckStatefulJob, MutationsGiveExactlyTheExpectedError) {
  FSP_REQUIRE_SHARED(shared);
  auto snaps = stateful_snapshots(shared);
  int mutations = 0;
  for (const auto& s : snaps) {
    const nlohmann::json base = manifest_json(s.broadcast);
    const std::string keyed_uid = s.broadcast ? "BrProcess1" : "CheckpointingKeyedStateFlatMap1";
    const std::string keyed_id = s.broadcast ? "12d7d939fd56473cac7cff0603179a41" : "d5c8b168c6cbfe8c507a10f88b325243";

    {  // 1. a uid removed
      nlohmann::json m = base;
      auto& ops = m["operators"];
      ops.erase(std::remove_if(ops.begin(), ops.end(), [&](const nlohmann::json& o) { return o.value("uid", "") == keyed_uid; }),
                ops.end());
      auto r = check(s, m, s.backend);
      ASSERT_EQ(only_rule(r, "unmatched-state", s.dir), 1) << s.dir;
      const auto& f = *std::find_if(r.findings.begin(), r.findings.end(),
                                    [](const fsp::Finding& f) { return f.severity == fsp::Severity::kError; });
      EXPECT_EQ(f.operator_id, keyed_id);
      EXPECT_NE(f.flink_error.find("Cannot map checkpoint/savepoint state for operator " + keyed_id +
                                   " to the new program, because the operator is not available in the new program. If "
                                   "you want to allow to skip this, you can set the --allowNonRestoredState option on the CLI."),
                std::string::npos);
      // With --allowNonRestoredState: a warning naming the dropped state.
      fsp::CheckOptions o;
      o.state_backend = s.backend;
      o.allow_non_restored_state = true;
      auto sf = fsp::open_snapshot(s.dir);
      auto r2 = fsp::check_restore(*sf, *fsp::parse_job_manifest(m), o);
      EXPECT_TRUE(r2.compatible()) << s.dir;
      bool warned = false;
      for (const auto& w : r2.findings) warned |= w.rule == "unmatched-state" && w.severity == fsp::Severity::kWarning;
      EXPECT_TRUE(warned);
      ++mutations;
    }
    {  // 2. max parallelism set to 8
      nlohmann::json m = base;
      m["max_parallelism"] = 8;
      auto r = check(s, m, s.backend);
      EXPECT_EQ(only_rule(r, "max-parallelism-mismatch", s.dir), 8) << s.dir;
      for (const auto& f : r.findings)
        if (f.severity == fsp::Severity::kError) {
          EXPECT_NE(f.flink_error.find("Max parallelism mismatch between checkpoint/savepoint state and new program. Cannot "
                                       "map operator " + f.operator_id + " with max parallelism 4 to new program with max "
                                       "parallelism 8."),
                    std::string::npos);
        }
      ++mutations;
    }
    {  // 3. parallelism 5 with max parallelism 4
      nlohmann::json m = base;
      for (auto& o : m["operators"])
        if (o.value("uid", "") == keyed_uid) {
          o["parallelism"] = 5;
          o["max_parallelism"] = 4;
        }
      auto r = check(s, m, s.backend);
      ASSERT_EQ(only_rule(r, "parallelism-above-max-parallelism", s.dir), 1) << s.dir;
      for (const auto& f : r.findings)
        if (f.severity == fsp::Severity::kError) {
          EXPECT_EQ(f.flink_error, "The state for task " + keyed_id +
                                       " can not be restored. The maximum parallelism (4) of the restored state is lower "
                                       "than the configured parallelism (5). Please reduce the parallelism of the task to "
                                       "be lower or equal to the maximum parallelism.");
        }
      ++mutations;
    }
    // 4. backend switched, for native savepoints and checkpoints. (1.15
    // RocksDB native savepoints hold canonical KeyGroupsSavepointStateHandles:
    // any backend restores them.)
    // Checkpoints with no (materialized) keyed state at all are left out:
    // the backend does not hold anything for them (an info finding says so).
    auto sf = fsp::open_snapshot(s.dir);
    const std::string sb = fsp::summarize(sf->snapshot).backend;
    const bool no_keyed = sb.size() >= 4 && sb.compare(sb.size() - 4, 4, "none") == 0;
    if (s.native_or_checkpoint && !no_keyed && s.dir.find("flink1.15-rocksdb-savepoint-native") == std::string::npos) {
      std::string other = s.backend == "rocksdb" ? "hashmap" : "rocksdb";
      auto r = check(s, base, other);
      EXPECT_EQ(only_rule(r, "backend-switch", s.dir), 1) << s.dir;
      ++mutations;
    }
  }
  std::cout << "[ check ] " << mutations << " manifest mutations, each with exactly its expected error\n";
  EXPECT_GE(mutations, 148 * 3 + 70);
}
