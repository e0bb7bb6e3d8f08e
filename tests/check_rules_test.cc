// Every `check` rule id asserted by name over a real or encoder-built
// snapshot (docs/check.md lists each rule's tests), and tests that fail for
// the planted bugs of issue 19 (named "Planted:" below).
#include <unistd.h>

#include <fstream>
#include <set>

#include "flink_savepoint/json.h"
#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using fsp::test::be_i32;
using fsp::test::be_i64;
using fsp::test::be_utf;
using fsp::test::sample_with_value_serializer;

const char* kRes = "testdata/flink-repo/flink-tests/src/test/resources/";
const char* kKeyedUid = "CheckpointingKeyedStateFlatMap1";
const char* kKeyedId = "d5c8b168c6cbfe8c507a10f88b325243";

nlohmann::json udf_job() {
  std::ifstream in(fs::path(FSP_SOURCE_DIR) / "testdata/jobs/stateful-udf-job.json");
  return nlohmann::json::parse(in);
}

fsp::SnapshotFile open(const fs::path& p) {
  auto sf = fsp::open_snapshot(p.string());
  EXPECT_TRUE(sf.ok()) << p << ": " << (sf.ok() ? "" : sf.error().to_string());
  return std::move(*sf);
}

fsp::CheckReport run(const fsp::SnapshotFile& sf, const nlohmann::json& m, const std::string& target = "",
                     const std::string& backend = "", bool read_states = true) {
  auto job = fsp::parse_job_manifest(m);
  EXPECT_TRUE(job.ok()) << (job.ok() ? "" : job.error().to_string());
  fsp::CheckOptions o;
  o.target_flink = target;
  o.state_backend = backend;
  o.read_states = read_states;
  return fsp::check_restore(sf, *job, o);
}

std::vector<const fsp::Finding*> with_rule(const fsp::CheckReport& r, const std::string& rule) {
  std::vector<const fsp::Finding*> v;
  for (const auto& f : r.findings)
    if (f.rule == rule) v.push_back(&f);
  return v;
}

const fsp::Finding* one(const fsp::CheckReport& r, const std::string& rule) {
  auto v = with_rule(r, rule);
  EXPECT_EQ(v.size(), 1u) << rule << "\n" << fsp::report_to_text(r);
  return v.empty() ? nullptr : v.front();
}

// The emitted manifest of a snapshot (no states), with operators removed by predicate.
nlohmann::json emitted(const fsp::SnapshotFile& sf) { return fsp::emit_job_manifest(sf, nullptr); }

nlohmann::json sample_job() {
  return nlohmann::json::parse(R"({"operators": [{"uid": "orders-source"}, {"uid": "enrich-orders-uid"},
                                                 {"uid": "orders-sink"}]})");
}

}  // namespace

// --- operator mapping -------------------------------------------------------

TEST(CheckRules, SkippedEmptyStateSaysEmptyOrFullyFinished) {
  FSP_REQUIRE_SHARED(shared);
  // A stateless operator of a real savepoint left out of the job: "its state is empty".
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  nlohmann::json m = emitted(sf);
  std::string stateless;
  for (size_t i = 0; i < sf.snapshot.operators.size(); ++i)
    if (!sf.snapshot.operators[i].has_state()) {
      stateless = sf.snapshot.operators[i].id_hex();
      m["operators"].erase(m["operators"].begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  ASSERT_FALSE(stateless.empty());
  EXPECT_EQ(stateless, "330bf7ad4176e7c36829a4bf9459db07");  // FLINK_DECODING.jsonl: operator 3, stateSize 0
  auto r = run(sf, m);
  const auto* f = one(r, "skipped-empty-state");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, fsp::Severity::kInfo);
  EXPECT_EQ(f->operator_id, stateless);
  EXPECT_NE(f->message.find("its state is empty"), std::string::npos) << f->message;
  EXPECT_EQ(f->message.find("fully finished"), std::string::npos) << f->message;
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kCompatible);
  // Planted: the fully-finished and empty-state messages swapped. Flink-written
  // v4 checkpoint with a fully finished operator.
  auto fw = open(shared / "testdata/flink-written/v4");
  nlohmann::json m2 = emitted(fw);
  std::string finished;
  for (size_t i = 0; i < fw.snapshot.operators.size(); ++i)
    if (fw.snapshot.operators[i].fully_finished) {
      finished = fw.snapshot.operators[i].id_hex();
      m2["operators"].erase(m2["operators"].begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  ASSERT_FALSE(finished.empty());
  EXPECT_EQ(finished, "ac5b03e6e86f493dbbb249bf38563a50");  // flink-written FLINK_DECODING.jsonl: fullyFinished
  auto r2 = run(fw, m2, "", "", false);
  bool seen = false;
  for (const auto* x : with_rule(r2, "skipped-empty-state"))
    if (x->operator_id == finished) {
      seen = true;
      EXPECT_NE(x->message.find("it is fully finished"), std::string::npos) << x->message;
      EXPECT_EQ(x->message.find("its state is empty"), std::string::npos) << x->message;
    }
  EXPECT_TRUE(seen) << fsp::report_to_text(r2);
}

TEST(CheckRules, DuplicateOperatorIdNewOperatorAndMissingUid) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  nlohmann::json m = udf_job();
  m["operators"].push_back({{"uid_hash", kKeyedId}, {"name", "pinned twice"}});
  auto r = run(sf, m);
  const auto* d = one(r, "duplicate-operator-id");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->severity, fsp::Severity::kError);
  EXPECT_EQ(d->flink_error, std::string("Hash collision on user-specified ID \"") + kKeyedUid +
                                "\". Most likely cause is a non-unique ID. Please check that all IDs specified via "
                                "`uid(String)` are unique.");
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible);

  nlohmann::json m2 = udf_job();
  m2["operators"].push_back({{"uid", "brand-new"}});
  m2["operators"].push_back({{"name", "no uid, stateless"}});
  m2["operators"].push_back({{"name", "no uid, stateful"}, {"states", {{{"name", "buffer"}, {"kind", "list"}}}}});
  auto r2 = run(sf, m2);
  auto nw = with_rule(r2, "new-operator-without-state");
  ASSERT_EQ(nw.size(), 1u) << fsp::report_to_text(r2);
  EXPECT_EQ(nw[0]->severity, fsp::Severity::kInfo);
  EXPECT_EQ(nw[0]->uid, "brand-new");
  // missing-uid: info on the state-less sinks (pinned by operator_id) and the
  // new state-less operator; a warning on the one that declares state.
  auto mu = with_rule(r2, "missing-uid");
  ASSERT_EQ(mu.size(), 4u);
  int info = 0, warn = 0;
  for (const auto* x : mu) (x->severity == fsp::Severity::kInfo ? info : warn) += 1;
  EXPECT_EQ(info, 3) << fsp::report_to_text(r2);
  EXPECT_EQ(warn, 1);
}

// Planted: setUidHash no longer preferred when matching.
TEST(CheckRules, UserDefinedIdIsMatchedFirst) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  fsp::NewJob job;
  job.kind = "snapshot";  // no duplicate-id check: two job operators answer for one id
  fsp::JobOperator gen;
  gen.uid = kKeyedUid;
  gen.max_parallelism = 8;
  gen.max_parallelism_explicit = true;
  fsp::JobOperator pinned;
  fsp::OperatorId id;
  ASSERT_TRUE(fsp::parse_operator_id(kKeyedId, id));
  pinned.uid_hash = id;
  pinned.name = "pinned";
  pinned.max_parallelism = 4;
  pinned.max_parallelism_explicit = true;
  job.operators = {gen, pinned};
  fsp::CheckOptions o;
  o.read_states = false;
  auto r = fsp::check_restore(sf, job, o);
  bool matched = false;
  for (const auto& mt : r.matches)
    if (mt.operator_id == kKeyedId) {
      matched = true;
      EXPECT_EQ(mt.job_index, 1);
      EXPECT_TRUE(mt.by_user_defined_id);
    }
  EXPECT_TRUE(matched);
  EXPECT_TRUE(with_rule(r, "max-parallelism-mismatch").empty()) << fsp::report_to_text(r);
}

// --- parallelism ----------------------------------------------------------

TEST(CheckRules, MaxParallelismLowerOrHigherAndAdopted) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  for (int mp : {2, 8}) {  // Planted: != turned into > (a lower max parallelism no longer reported)
    nlohmann::json m = udf_job();
    m["max_parallelism"] = mp;
    m.erase("parallelism");
    for (auto& op : m["operators"]) op.erase("parallelism");
    auto r = run(sf, m);
    auto v = with_rule(r, "max-parallelism-mismatch");
    EXPECT_EQ(v.size(), 8u) << mp;
    for (const auto* f : v) {
      EXPECT_EQ(f->severity, fsp::Severity::kError);
      EXPECT_NE(f->flink_error.find("with max parallelism 4 to new program with max parallelism " + std::to_string(mp)),
                std::string::npos);
    }
  }
  nlohmann::json m = udf_job();
  m.erase("max_parallelism");
  auto r = run(sf, m);
  auto adopted = with_rule(r, "max-parallelism-adopted");
  ASSERT_FALSE(adopted.empty());
  for (const auto* f : adopted) {
    EXPECT_EQ(f->severity, fsp::Severity::kInfo);
    EXPECT_NE(f->message.find("Flink adopts the snapshot's value 4"), std::string::npos) << f->message;
  }
}

// --- backend and format ---------------------------------------------------

// Planted: the RocksDB <-> ForSt native switch turned from warning into error.
TEST(CheckRules, RocksDbToForStNativeIsAWarning) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint-native");
  auto r = run(sf, udf_job(), "", "forst");
  auto v = with_rule(r, "backend-switch");
  ASSERT_EQ(v.size(), 1u) << fsp::report_to_text(r);
  EXPECT_EQ(v[0]->severity, fsp::Severity::kWarning);
  EXPECT_NE(v[0]->message.find("switching between RocksDB and ForSt"), std::string::npos);
  EXPECT_FALSE(r.has_errors()) << fsp::report_to_text(r);
}

TEST(CheckRules, UnalignedTopologyChangeAndRescaleBothWays) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / "testdata/flink-written/v4");
  const auto& ops = sf.snapshot.operators;
  int channel = -1;
  for (size_t i = 0; i < ops.size() && channel < 0; ++i)
    for (const auto& st : ops[i].subtasks)
      if (!st.input_channels.empty() || !st.result_subpartitions.empty()) channel = static_cast<int>(i);
  ASSERT_GE(channel, 0);
  EXPECT_EQ(ops[channel].id_hex(), "90baf0a02735d5a505080c3c698a333c");  // FLINK_DECODING.jsonl: channel state
  EXPECT_EQ(ops[channel].parallelism, 2);
  // The same operators: nothing unaligned to say.
  auto same = run(sf, emitted(sf), "", "", false);
  EXPECT_TRUE(with_rule(same, "unaligned-topology-change").empty());
  EXPECT_TRUE(with_rule(same, "unaligned-rescale").empty());
  // An operator added: the topology changed.
  nlohmann::json added = emitted(sf);
  added["operators"].push_back({{"uid", "a-new-operator"}});
  auto r = run(sf, added, "", "", false);
  const auto* t = one(r, "unaligned-topology-change");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->severity, fsp::Severity::kWarning);
  EXPECT_NE(t->flink_error.find("The following operators contain channel state: [" + ops[channel].id_hex()),
            std::string::npos)
      << t->flink_error;
  // Planted: unaligned-rescale only on scale-up. Both directions warn.
  int p = ops[channel].parallelism;
  for (int np : {p + 1, p > 1 ? p - 1 : p + 2}) {
    nlohmann::json m = emitted(sf);
    m["operators"][channel]["parallelism"] = np;
    auto rr = run(sf, m, "", "", false);
    const auto* f = one(rr, "unaligned-rescale");
    ASSERT_TRUE(f) << np;
    EXPECT_EQ(f->severity, fsp::Severity::kWarning);
    EXPECT_EQ(f->operator_id, ops[channel].id_hex());
    EXPECT_NE(f->flink_error.find("Cannot rescale the given pointwise partitioner."), std::string::npos);
  }
}

TEST(CheckRules, ClaimModeWarnings) {
  FSP_REQUIRE_SHARED(shared);
  // A native savepoint with relative and absolute file handles (Flink-written v4).
  auto sf = open(shared / "testdata/flink-written/v4");
  fsp::CheckOptions o;
  o.read_states = false;
  auto job = fsp::parse_job_manifest(emitted(sf));
  o.claim_mode = "no_claim";
  EXPECT_TRUE(with_rule(fsp::check_restore(sf, *job, o), "claim-mode").empty());
  o.claim_mode = "claim";
  auto r = fsp::check_restore(sf, *job, o);
  auto v = with_rule(r, "claim-mode");
  ASSERT_EQ(v.size(), 1u) << fsp::report_to_text(r);
  EXPECT_EQ(v[0]->severity, fsp::Severity::kWarning);
  EXPECT_NE(v[0]->message.find("mixes relative (7 RelativeFileStateHandle) and absolute (3 FileStateHandle)"),
            std::string::npos)
      << v[0]->message;
  EXPECT_NE(v[0]->message.find("FLINK-39964"), std::string::npos);
  // A retained checkpoint in CLAIM mode: Flink takes ownership.
  auto cp = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-checkpoint");
  auto rc = fsp::check_restore(cp, *fsp::parse_job_manifest(udf_job()), o);
  auto vc = with_rule(rc, "claim-mode");
  ASSERT_EQ(vc.size(), 1u) << fsp::report_to_text(rc);
  EXPECT_EQ(vc[0]->severity, fsp::Severity::kWarning);
  EXPECT_NE(vc[0]->message.find("retained checkpoint is restored in CLAIM mode"), std::string::npos) << vc[0]->message;
  o.claim_mode = "legacy";
  auto l = fsp::check_restore(sf, *job, o);
  ASSERT_EQ(with_rule(l, "claim-mode").size(), 1u);
  EXPECT_EQ(with_rule(l, "claim-mode")[0]->severity, fsp::Severity::kInfo);
}

// --- versions ---------------------------------------------------------------

TEST(CheckRules, VersionStepsAndCheckpoints) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint");
  auto r = run(sf, udf_job(), "2.0", "hashmap");
  const auto* mv = one(r, "major-version-step");
  ASSERT_TRUE(mv);
  EXPECT_EQ(mv->severity, fsp::Severity::kInfo);
  EXPECT_NE(mv->message.find("State compatibility is not guaranteed between 1.x and 2.x"), std::string::npos);
  auto cp = open(shared / kRes / "new-stateful-udf-migration-itcase-flink1.20-hashmap-checkpoint");
  auto rc = run(cp, udf_job(), "2.0", "hashmap");
  const auto* c = one(rc, "checkpoint-version-upgrade");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->severity, fsp::Severity::kInfo);
  auto cp2 = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-checkpoint");  // v5: only 2.0 writes it
  EXPECT_TRUE(with_rule(run(cp2, udf_job(), "2.0", "hashmap"), "checkpoint-version-upgrade").empty());
  EXPECT_EQ(with_rule(run(cp2, udf_job(), "2.1", "hashmap"), "checkpoint-version-upgrade").size(), 1u);
  // v3 with finished subtasks (Flink 1.14+) restored by 1.13.
  auto v3 = open(shared / "testdata/flink-written/v3");
  auto r3 = run(v3, emitted(v3), "1.13", "", false);
  const auto* mu = one(r3, "metadata-version-unreadable");
  ASSERT_TRUE(mu);
  EXPECT_EQ(mu->severity, fsp::Severity::kError);
  EXPECT_NE(mu->message.find("FLIP-147"), std::string::npos);
}

TEST(CheckRules, LegacySerializerSnapshotOfFlink17) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / "testdata/flink-repo/flink-end-to-end-tests/flink-state-evolution-test/savepoints/1.7");
  nlohmann::json m = nlohmann::json::parse(R"({"operators": [{"uid": "my-map"}, {"uid": "my-sink"}]})");
  auto r = run(sf, m, "1.20");
  auto v = with_rule(r, "legacy-serializer-snapshot");
  auto p = with_rule(r, "pre-1.8-snapshot");
  ASSERT_FALSE(v.empty() && p.empty()) << fsp::report_to_text(r);
  for (const auto* f : v) EXPECT_EQ(f->severity, fsp::Severity::kError);
  EXPECT_EQ(r.verdict_kind(), fsp::Verdict::kIncompatible);
}

TEST(CheckRules, KryoAndScalaSerializersOnTwoX) {
  std::string kryo = be_utf("org.apache.flink.api.java.typeutils.runtime.kryo.KryoSerializerSnapshot") + be_i32(2) +
                     be_utf("com.example.Event");
  for (int k = 0; k < 3; ++k) kryo += be_i64(0x4F2C69A3D70LL) + be_i32(0);
  fs::path kdir = sample_with_value_serializer("rules-kryo", kryo, 4);  // a Flink 1.x (v4) snapshot
  auto ksf = open(kdir);
  auto r = run(ksf, sample_job(), "2.0");
  const auto* k = one(r, "kryo-serializer");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->severity, fsp::Severity::kError);
  EXPECT_EQ(k->uid, "enrich-orders-uid");
  EXPECT_NE(k->message.find("state \"order-count\" is serialized with Kryo"), std::string::npos) << k->message;
  EXPECT_TRUE(with_rule(run(ksf, sample_job(), "1.20"), "kryo-serializer").empty());
  fs::remove_all(kdir);

  std::string scala = be_utf("org.apache.flink.api.scala.typeutils.ScalaOptionSerializerSnapshot") + be_i32(3) + be_i32(911108) +
                      be_i32(1) + be_i32(1333245) + be_i32(1) + be_i32(1) +
                      be_utf("org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot") + be_i32(3);
  fs::path sdir = sample_with_value_serializer("rules-scala", scala, 6);
  auto ssf = open(sdir);
  auto rs = run(ssf, sample_job(), "2.1");
  const auto* s = one(rs, "scala-serializer");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->severity, fsp::Severity::kError);
  EXPECT_EQ(s->flink_error, "Could not find class org.apache.flink.api.scala.typeutils.ScalaOptionSerializerSnapshot");
  fs::remove_all(sdir);
}

// --- state schemas ------------------------------------------------------

TEST(CheckRules, NewStateAndStateNotRegisteredButNeverTimers) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  nlohmann::json m = udf_job();
  m["operators"][1]["states"].push_back({{"name", "a-new-state"}, {"kind", "value"}});
  m["operators"][2]["states"] = nlohmann::json::array();  // the timely operator registers nothing now
  auto r = run(sf, m, "", "hashmap");
  const auto* n = one(r, "new-state");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->severity, fsp::Severity::kInfo);
  EXPECT_NE(n->message.find("\"a-new-state\""), std::string::npos);
  // Planted: timers no longer excluded. The timely operator holds timers besides "state-name".
  {
    fsp::StateReadOptions ro;
    ro.statistics = false;
    auto st = fsp::read_states(sf, ro);
    ASSERT_TRUE(st.ok());
    bool timers = false;
    for (const auto& o : *st)
      for (const auto& x : o.states) timers |= x.kind == "timers";
    EXPECT_TRUE(timers);
  }
  auto nr = with_rule(r, "state-not-registered");
  ASSERT_EQ(nr.size(), 1u) << fsp::report_to_text(r);
  EXPECT_EQ(nr[0]->uid, "CheckpointingTimelyStatefulOperator1");
  EXPECT_NE(nr[0]->message.find("state \"state-name\""), std::string::npos) << nr[0]->message;
}

// Planted: heap TTL migration moved from Flink 2.2 to 2.1.
TEST(CheckRules, TtlMigrationVersionsPerBackend) {
  FSP_REQUIRE_SHARED(shared);
  nlohmann::json m = udf_job();
  m["operators"][1]["states"][0]["ttl"] = "1 h";
  auto heap = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  auto sev = [&](const fsp::SnapshotFile& sf, const char* target, const char* backend) {
    auto r = run(sf, m, target, backend);
    const auto* f = one(r, "ttl-changed");
    return f ? f->severity : fsp::Severity::kInfo;
  };
  EXPECT_EQ(sev(heap, "2.0", "hashmap"), fsp::Severity::kError);
  EXPECT_EQ(sev(heap, "2.1", "hashmap"), fsp::Severity::kError);
  EXPECT_EQ(sev(heap, "2.2", "hashmap"), fsp::Severity::kInfo);
  auto rocks = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint");
  EXPECT_EQ(sev(rocks, "2.0", "rocksdb"), fsp::Severity::kError);
  EXPECT_EQ(sev(rocks, "2.1", "rocksdb"), fsp::Severity::kInfo);
  auto r = run(heap, m, "2.1", "hashmap");
  ASSERT_NE(one(r, "ttl-changed"), nullptr);
  EXPECT_EQ(one(r, "ttl-changed")->flink_error,
            "For heap backends, the new state serializer (TtlSerializer(LongSerializer)) must not need ttl state "
            "migration with the old state serializer (org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot).");
}

// Planted: the "old state not TTL-wrapped" condition dropped. A TTL state's
// value serializer is the TTL wrapper; the manifest names the inner one.
TEST(CheckRules, TtlWrappedOldStateIsNotAValueSerializerChange) {
  FSP_REQUIRE_SHARED(shared);
  fs::path dir = shared / "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/"
                          "stream-exec-group-aggregate_1/agg-with-state-ttl-hint/savepoint";
  auto sf = open(dir);
  fsp::StateReadOptions ro;
  ro.statistics = false;
  auto st = fsp::read_states(sf, ro);
  ASSERT_TRUE(st.ok());
  auto m = fsp::emit_job_manifest(sf, &*st);
  int ttl_states = 0;
  for (auto& op : m["operators"])
    if (op.contains("states"))
      for (auto& s : op["states"])
        if (s["ttl"] == true) {
          ++ttl_states;
          s["value_serializer"] = "RowDataSerializer";
        }
  ASSERT_GE(ttl_states, 1);
  auto r = run(sf, m, "1.20", "hashmap");
  EXPECT_TRUE(with_rule(r, "value-serializer-changed").empty()) << fsp::report_to_text(r);
}

// Planted: the manifest's allow_non_restored_state ignored.
TEST(CheckRules, ManifestAllowNonRestoredState) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  nlohmann::json m = udf_job();
  m["operators"].erase(m["operators"].begin() + 1);  // CheckpointingKeyedStateFlatMap1
  m["allow_non_restored_state"] = true;
  auto r = run(sf, m, "", "hashmap");
  const auto* f = one(r, "unmatched-state");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->severity, fsp::Severity::kWarning);
  EXPECT_EQ(r.verdict_line(), "compatible with state dropped");
  m["allow_non_restored_state"] = false;
  EXPECT_EQ(run(sf, m, "", "hashmap").verdict_kind(), fsp::Verdict::kIncompatible);
}

// --- output -------------------------------------------------------------------

// Planted: every JUnit test case marked failed; the `Flink:` line dropped from the text report.
TEST(CheckOutput, JunitCasesAreStableAndOnlyFailuresFail) {
  FSP_REQUIRE_SHARED(shared);
  auto sf = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-hashmap-savepoint");
  auto count = [](const std::string& xml, const std::string& what) {
    size_t n = 0;
    for (size_t p = xml.find(what); p != std::string::npos; p = xml.find(what, p + 1)) ++n;
    return n;
  };
  auto ok = run(sf, udf_job(), "", "hashmap");
  std::string x1 = fsp::report_to_junit(ok);
  EXPECT_EQ(count(x1, "<testcase "), 8u + 3u);  // 8 snapshot operators + 3 job-wide groups
  EXPECT_EQ(count(x1, "<failure "), 0u);
  EXPECT_NE(x1.find("<testsuites tests=\"11\" failures=\"0\""), std::string::npos);
  nlohmann::json m = udf_job();
  m["operators"].erase(m["operators"].begin() + 1);
  auto bad = run(sf, m, "", "hashmap");
  std::string x2 = fsp::report_to_junit(bad);
  EXPECT_EQ(count(x2, "<testcase "), 11u);  // the same set of tests
  EXPECT_EQ(count(x2, "<failure "), 1u);
  EXPECT_NE(x2.find("unmatched-state: snapshot operator " + std::string(kKeyedId)), std::string::npos);
  // --strict: a warning (RocksDB native savepoint into ForSt) fails its job-wide group too.
  auto native = open(shared / kRes / "new-stateful-udf-migration-itcase-flink2.0-rocksdb-savepoint-native");
  auto warned = run(native, udf_job(), "", "forst");
  EXPECT_EQ(count(fsp::report_to_junit(warned), "<failure "), 0u);
  std::string x3 = fsp::report_to_junit(warned, true);
  EXPECT_EQ(count(x3, "<failure "), 1u);
  EXPECT_NE(x3.find("<failure message=\"backend-switch: "), std::string::npos);
  std::string text = fsp::report_to_text(bad);
  EXPECT_NE(text.find("            Flink: Failed to rollback to checkpoint/savepoint "), std::string::npos) << text;
  EXPECT_NE(text.find("            fix:   give the operator"), std::string::npos) << text;
}

TEST(CheckOutput, EveryRuleIdIsDocumented) {
  std::string doc = fsp::test::read_file(fs::path(FSP_SOURCE_DIR) / "docs/check.md");
  for (const auto& id : fsp::check_rule_ids()) EXPECT_NE(doc.find("| `" + id + "`"), std::string::npos) << id;
}
