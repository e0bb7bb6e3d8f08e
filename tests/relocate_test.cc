// relocate: prefix rewriting of every absolute path, --make-relative, the
// atomic writer, and the command line. Real files from ../shared and
// snapshots built with the project's own encoder.
#include "flink_savepoint/json.h"
#include "flink_savepoint/relocate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/summary.h"
#include "flink_savepoint/walk.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

// ---------------------------------------------------------------------------
// Helpers

std::vector<fs::path> all_real_files(const fs::path& shared) {
  std::vector<fs::path> v;
  for (const auto& row : test::manifest()) v.push_back(shared / "testdata" / "flink-repo" / row.path);
  for (const char* ver : {"v3", "v4", "v5", "v6"}) v.push_back(shared / "testdata" / "flink-written" / ver / "_metadata");
  return v;
}

// The parent directory of the first absolute path (codes 2, 15, 17), if any.
std::optional<std::string> first_absolute_dir(const Snapshot& s) {
  std::optional<std::string> out;
  for_each_path(s, [&](const Str& p, PathKind k, const HandleLocation&) {
    if (out || k == PathKind::kRelativeFile || k == PathKind::kInlineName || p.empty()) return;
    std::string v(p);
    size_t slash = v.rfind('/');
    if (k != PathKind::kDirectory && slash != std::string::npos && slash > 0) v.resize(slash);
    out = v;
  });
  return out;
}

std::string prefix_map(const std::string& v, const std::string& from, const std::string& to) {
  if (v.compare(0, from.size(), from) == 0 && (v.size() == from.size() || v[from.size()] == '/'))
    return to + v.substr(from.size());
  return v;
}

std::string parent_path_of(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

// JSON of the model without the summary's derived file list order issues.
nlohmann::json model_json(const Snapshot& s) { return snapshot_to_json(s); }

// Every difference between the two JSON documents is a path string that `from -> to` maps.
void expect_only_paths_differ(const nlohmann::json& before, const nlohmann::json& after, const std::string& from,
                              const std::string& to, const std::string& what, bool inline_names) {
  auto patch = nlohmann::json::diff(before, after);
  for (const auto& op : patch) {
    std::string ptr = op["path"];
    ASSERT_EQ(op["op"], "replace") << what << ": " << op.dump();
    std::string key = ptr.substr(ptr.rfind('/') + 1);
    bool path_key = key == "path" || key == "task_owned_dir" || key == "shared_dir" || (inline_names && key == "handle_name");
    ASSERT_TRUE(path_key) << what << ": unexpected change at " << ptr;
    std::string old_value = before.at(nlohmann::json::json_pointer(ptr));
    EXPECT_EQ(op["value"].get<std::string>(), prefix_map(old_value, from, to)) << what << " at " << ptr;
  }
}

// ---------------------------------------------------------------------------
// Snapshots built with the project's encoder: every handle kind with an absolute path.

class Builder {
 public:
  explicit Builder(Snapshot& s) : s_(s) {}
  Str str(const std::string& v) { return s_.store(v); }
  StreamHandle file(const std::string& path, int64_t size) {
    StreamHandle h;
    h.code = code::kFile;
    h.path = str(path);
    h.state_size = size;
    return h;
  }
  StreamHandle relative(const std::string& name, int64_t size) {
    StreamHandle h;
    h.code = code::kRelative;
    h.path = str(name);
    h.state_size = size;
    return h;
  }
  StreamHandle inline_(const std::string& name, const std::string& data) {
    StreamHandle h;
    h.code = code::kByteStream;
    h.path = str(name);
    h.set_data(str(data));
    h.state_size = static_cast<int64_t>(data.size());
    return h;
  }
  StreamHandle segment(const std::string& path, int64_t start, int64_t size, int scope) {
    StreamHandle h;
    h.code = code::kSegmentFile;
    h.path = str(path);
    h.set_start_pos(start);
    h.state_size = size;
    h.set_scope(scope);
    h.set_data(str("logical-" + std::to_string(start)));
    return h;
  }
  BeLongs longs(std::initializer_list<int64_t> v) {
    std::string raw;
    for (int64_t x : v)
      for (int i = 0; i < 8; ++i) raw.push_back(static_cast<char>(static_cast<uint64_t>(x) >> (56 - 8 * i)));
    return BeLongs{str(raw)};
  }

 private:
  Snapshot& s_;
};

// A snapshot whose absolute paths live under `base` (e.g. hdfs://nn:8020/flink)
// and whose exclusive directory is `base`/savepoints/sp-1. Mixed relative and
// absolute handles, as after a CLAIM restore (FLINK-39964).
Snapshot build_all_kinds(int version, const std::string& base) {
  Snapshot s;
  Builder b(s);
  s.version = version;
  s.checkpoint_id = 17;
  if (version >= 4) s.trailer = s.store(std::string("\xAC\xED\x00\x05\x70", 5));  // serialized null
  const std::string excl = base + "/savepoints/sp-1";
  const std::string shared = base + "/checkpoints/job/shared";
  const std::string taskowned = base + "/checkpoints/job/taskowned";

  s.operators.resize(3);
  // Operator 0: coordinator (absolute), keyed incremental state, changelog, key-groups.
  {
    OperatorState& op = s.operators[0];
    op.id[0] = 1;
    op.parallelism = 3;
    op.max_parallelism = 128;
    if (version >= 5) {
      op.name = b.str("keyed");
      op.uid = b.str("keyed-uid");
    }
    op.coordinator = b.inline_(excl + "/coordinator-state", "coordinator bytes");  // always inline in Flink
    op.subtasks.resize(3);
    // subtask 0: incremental RocksDB: meta, shared, private (mixed absolute/relative).
    {
      SubtaskState& st = op.subtasks[0];
      st.index = 0;
      KeyedHandle& k = st.managed_keyed;
      k.code = code::kIncrementalV2;
      k.checkpoint_id = 17;
      k.backend_id = b.str("6f1c5c1e-4a4d-4b43-9d0c-0b6a1f0c9e51");
      k.range = {0, 43};
      k.checkpointed_size = 100;
      k.delegate = b.file(excl + "/meta-0", 700);
      k.shared_state.push_back({b.str("000012.sst"), b.file(shared + "/sst-12", 12000)});
      k.shared_state.push_back({b.str("000013.sst"), b.relative("sst-13", 13000)});  // CLAIM: relative and absolute mixed
      k.shared_state.push_back({b.str("000014.sst"), b.file(excl + "/sst-14", 14000)});
      k.private_state.push_back({b.str("MANIFEST-000004"), b.file(excl + "/manifest-0", 300)});
      k.private_state.push_back({b.str("CURRENT"), b.inline_(excl + "/current-0", "MANIFEST-000004\n")});
      k.state_handle_id = b.str("id-0");
      // raw keyed: key groups (code 12) with an absolute file.
      KeyedHandle& r = st.raw_keyed;
      r.code = code::kKeyGroupsV2;
      r.range = {0, 1};
      r.offsets = b.longs({0});
      r.delegate = b.file(excl + "/raw-keyed-0", 4096);
      r.state_handle_id = b.str("id-raw-0");
    }
    // subtask 1: changelog (materialized incremental + file increments).
    {
      SubtaskState& st = op.subtasks[1];
      st.index = 1;
      KeyedHandle& c = st.managed_keyed;
      c.code = code::kChangelogV2;
      c.range = {43, 43};
      c.checkpointed_size = 5;
      c.materialization_id = 3;
      c.checkpoint_id = 17;
      c.state_handle_id = b.str("id-cl");
      KeyedHandle m;
      m.code = code::kIncrementalV2;
      m.checkpoint_id = 16;
      m.backend_id = b.str("0a1c5c1e-4a4d-4b43-9d0c-0b6a1f0c9e52");
      m.range = {43, 43};
      m.delegate = b.file(shared + "/meta-mat", 800);
      m.shared_state.push_back({b.str("000020.sst"), b.file(shared + "/sst-20", 20000)});
      m.state_handle_id = b.str("id-mat");
      c.materialized.push_back(std::move(m));
      KeyedHandle d;
      d.code = code::kChangelogFileIncrementV2;
      d.range = {43, 43};
      d.handles_and_offsets.push_back({0, b.file(base + "/dstl/log-1", 900)});
      d.handles_and_offsets.push_back({10, b.inline_("inline-log", "0123456789")});
      d.stored_state_size = 910;
      d.checkpointed_size = 910;
      d.state_handle_id = b.str("id-delta");
      d.storage_identifier = b.str("filesystem");
      c.non_materialized.push_back(std::move(d));
    }
    // subtask 2: a canonical key-groups handle (code 7) with an absolute file, and operator state.
    {
      SubtaskState& st = op.subtasks[2];
      st.index = 2;
      st.managed_keyed.code = code::kSavepointKeyGroups;
      st.managed_keyed.range = {86, 2};
      st.managed_keyed.offsets = b.longs({0, 100});
      st.managed_keyed.delegate = b.file(excl + "/keyed-2", 200);
      st.managed_op_flag = 1;
      st.managed_operator.code = code::kPartitionableOperator;
      st.managed_operator.states.push_back({b.str("buffer"), 0, b.longs({0})});
      st.managed_operator.delegate = b.file(taskowned + "/op-2", 60);
    }
  }
  // Operator 1: file merging (segments + directories) and channel state.
  {
    OperatorState& op = s.operators[1];
    op.id[0] = 2;
    op.parallelism = 2;
    op.max_parallelism = 256;
    op.subtasks.resize(2);
    for (int i = 0; i < 2; ++i) {
      SubtaskState& st = op.subtasks[static_cast<size_t>(i)];
      st.index = i;
      st.managed_op_flag = 1;
      OperatorHandle& h = st.managed_operator;
      h.code = code::kSegmentPartitionableOperator;
      h.states.push_back({b.str("offsets"), 1, b.longs({0})});
      h.task_owned_dir = b.str(taskowned + "/job_x");
      h.shared_dir = b.str(shared + "/job_x/op_" + std::to_string(i));
      h.delegate = b.segment(taskowned + "/job_x/seg-" + std::to_string(i), 64 * i, 64, 0);
      st.raw_op_flag = 1;
      st.raw_operator.code = code::kSegmentPartitionableOperator;
      st.raw_operator.task_owned_dir = b.str(taskowned + "/job_x");
      st.raw_operator.shared_dir = b.str(shared + "/job_x/raw");
      st.raw_operator.is_empty = true;
      st.raw_operator.delegate.code = code::kEmptySegmentFile;
      if (version >= 3) {
        ChannelHandle in;
        in.kind = channel::kInput;
        in.subtask_index = i;
        in.offsets = b.longs({0});
        in.state_size = 500;
        in.delegate = b.file(excl + "/channel-" + std::to_string(i), 500);
        st.input_channels.push_back(in);
        ChannelHandle out;
        out.kind = channel::kResult;
        out.subtask_index = i;
        out.offsets = b.longs({0});
        out.state_size = 70;
        out.delegate = b.segment(shared + "/job_x/unaligned-" + std::to_string(i), 0, 70, 1);
        st.result_subpartitions.push_back(out);
      }
    }
  }
  // Operator 2: fully finished.
  {
    OperatorState& op = s.operators[2];
    op.id[0] = 3;
    op.parallelism = 1;
    op.max_parallelism = 128;
    op.fully_finished = version >= 3;
  }
  return s;
}

Snapshot reencode_decode(const Snapshot& s, std::string& holder) {
  auto enc = encode_metadata(s);
  EXPECT_TRUE(enc.ok()) << enc.error().to_string();
  holder = *enc;
  auto dec = decode_metadata(holder);
  EXPECT_TRUE(dec.ok()) << dec.error().to_string();
  return std::move(*dec);
}

struct PathRow {
  HandleCode code;
  PathKind kind;
  std::string path;
  int64_t size;
};
std::vector<PathRow> path_rows(const Snapshot& s) {
  std::vector<PathRow> rows;
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
    PathKind k = h.code == code::kFile ? PathKind::kAbsoluteFile
                 : h.code == code::kRelative ? PathKind::kRelativeFile
                 : h.code == code::kSegmentFile ? PathKind::kSegmentFile
                                                : PathKind::kInlineName;
    rows.push_back({h.code, k, std::string(h.path), h.state_size});
  });
  for_each_path(s, [&](const Str& p, PathKind k, const HandleLocation&) {
    if (k == PathKind::kDirectory) rows.push_back({HandleCode::kNull, k, std::string(p), 0});
  });
  return rows;
}

// ---------------------------------------------------------------------------
// Library: built snapshots

TEST(Relocate, RewritesEveryAbsoluteHandleKindAtAnyDepth) {
  for (int version : {3, 4, 5, 6, 7}) {
    SCOPED_TRACE("metadata v" + std::to_string(version));
    const std::string from = "hdfs://nn:8020/flink", to = "s3://bucket/prod/flink";
    Snapshot original = build_all_kinds(version, from);
    std::string bytes0;
    Snapshot s = reencode_decode(original, bytes0);
    auto before = path_rows(s);

    RelocateOptions o;
    o.rules = {{from, to}};
    auto rep = relocate(s, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    std::string bytes1;
    Snapshot back = reencode_decode(s, bytes1);
    auto after = path_rows(back);
    ASSERT_EQ(before.size(), after.size());
    size_t abs = 0, seg = 0, dirs = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      const auto &b = before[i], &a = after[i];
      EXPECT_EQ(a.code, b.code) << b.path;
      EXPECT_EQ(a.size, b.size) << b.path;
      if (b.kind == PathKind::kAbsoluteFile || b.kind == PathKind::kSegmentFile || b.kind == PathKind::kDirectory) {
        ASSERT_EQ(b.path.rfind(from, 0), 0u) << b.path;
        EXPECT_EQ(a.path, to + b.path.substr(from.size()));
        abs += b.kind == PathKind::kAbsoluteFile;
        seg += b.kind == PathKind::kSegmentFile;
        dirs += b.kind == PathKind::kDirectory;
      } else {
        EXPECT_EQ(a.path, b.path) << "relative and inline names stay";
      }
    }
    // meta, 2 shared, private, raw keyed, mat meta, mat sst, dstl, keyed-2, op-2, 2 channels
    EXPECT_EQ(abs, 12u);
    EXPECT_EQ(seg, 4u);
    EXPECT_EQ(dirs, 8u);
    EXPECT_EQ(rep->changed, abs + seg + dirs);
    EXPECT_EQ(rep->changes.size(), rep->changed);
    EXPECT_EQ(rep->unmatched_absolute, 0u);
    // And back again: identical bytes.
    RelocateOptions back_o;
    back_o.rules = {{to, from}};
    ASSERT_TRUE(relocate(back, back_o).ok());
    auto enc = encode_metadata(back);
    ASSERT_TRUE(enc.ok());
    EXPECT_TRUE(*enc == bytes0);
  }
}

TEST(Relocate, LongestPrefixWinsAndMatchesWholeComponents) {
  Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
  RelocateOptions o;
  o.rules = {{"hdfs://nn/flink/", "s3://a/"},                        // trailing slashes are ignored
             {"hdfs://nn/flink/checkpoints/job/shared", "s3://b/sh"},  // longer: wins for shared files
             {"hdfs://nn/flink/checkpoints/job/sha", "s3://never"}};   // not a whole component
  auto rep = relocate(s, o);
  ASSERT_TRUE(rep.ok()) << rep.error().to_string();
  ASSERT_EQ(rep->changes.size(), 24u);  // every absolute path (12 files, 4 segments, 8 directories)
  size_t to_shared = 0, to_a = 0;
  for (const auto& c : rep->changes) {
    std::string n(c.new_path);
    if (std::string(c.old_path).find("/shared") != std::string::npos) {
      EXPECT_EQ(n.rfind("s3://b/sh/", 0), 0u) << n;
      ++to_shared;
    } else {
      EXPECT_EQ(n.rfind("s3://a/", 0), 0u) << n;
      ++to_a;
    }
    EXPECT_EQ(n.find("never"), std::string::npos);
  }
  // sst-12, meta-mat, sst-20, 2 unaligned segments, op_0, op_1 and twice raw (directories)
  EXPECT_EQ(to_shared, 9u);
  EXPECT_EQ(to_a, 15u);
}

// The boundary rule on its own (not shadowed by a longer rule): hdfs://nn/flink
// must not rewrite hdfs://nn/flinkX/..., only hdfs://nn/flink and what is under it.
TEST(Relocate, PrefixMatchesAtAPathComponentBoundaryOnly) {
  RelocateOptions o;
  o.rules = {{"hdfs://nn/flink", "s3://a"}};
  Snapshot other = build_all_kinds(6, "hdfs://nn/flinkX");
  std::string before = *encode_metadata(other);
  auto rep = relocate(other, o);
  ASSERT_TRUE(rep.ok()) << rep.error().to_string();
  EXPECT_EQ(rep->changed, 0u);
  EXPECT_TRUE(rep->changes.empty());
  EXPECT_EQ(rep->absolute_paths, 24u);
  EXPECT_EQ(rep->unmatched_absolute, 24u);
  ASSERT_FALSE(rep->unmatched_examples.empty());
  EXPECT_EQ(rep->unmatched_examples[0].rfind("hdfs://nn/flinkX/", 0), 0u) << rep->unmatched_examples[0];
  EXPECT_TRUE(*encode_metadata(other) == before) << "nothing under hdfs://nn/flinkX is rewritten";

  Snapshot same = build_all_kinds(6, "hdfs://nn/flink");
  rep = relocate(same, o);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->changed, 24u);
  EXPECT_EQ(rep->unmatched_absolute, 0u);
  EXPECT_EQ(same.operators[0].subtasks[0].managed_keyed.delegate.path, "s3://a/savepoints/sp-1/meta-0");

  // A path equal to the prefix itself matches too (a directory string).
  Snapshot s;
  s.version = 6;
  Builder b(s);
  s.operators.resize(1);
  s.operators[0].coordinator = b.file("hdfs://nn/flinkfile", 3);
  s.operators[0].subtasks.resize(1);
  s.operators[0].subtasks[0].managed_op_flag = 1;
  OperatorHandle& h = s.operators[0].subtasks[0].managed_operator;
  h.code = code::kSegmentPartitionableOperator;
  h.task_owned_dir = b.str("hdfs://nn/flink");
  h.shared_dir = b.str("hdfs://nn/flink-shared");
  h.is_empty = true;
  h.delegate.code = code::kEmptySegmentFile;
  rep = relocate(s, o);
  ASSERT_TRUE(rep.ok()) << rep.error().to_string();
  EXPECT_EQ(rep->changed, 1u);
  EXPECT_EQ(s.operators[0].subtasks[0].managed_operator.task_owned_dir, "s3://a");
  EXPECT_EQ(s.operators[0].subtasks[0].managed_operator.shared_dir, "hdfs://nn/flink-shared");
  EXPECT_EQ(s.operators[0].coordinator.path, "hdfs://nn/flinkfile");
}

// --make-relative turns only direct children of the snapshot directory into
// relative handles: a file in a subdirectory keeps its absolute path (Flink
// resolves a relative handle as exclusiveDir/name, with no '/').
TEST(Relocate, MakeRelativeTakesDirectChildrenOnly) {
  const std::string base = "hdfs://nn/flink";
  {
    Snapshot s = build_all_kinds(6, base);
    RelocateOptions o;
    o.make_relative = true;
    o.snapshot_uri = base + "/checkpoints/job";  // holds shared/ and taskowned/, no file of its own
    auto rep = relocate(s, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    EXPECT_EQ(rep->made_relative, 0u);
    EXPECT_EQ(rep->changed, 0u);
    EXPECT_EQ(s.operators[0].subtasks[0].managed_keyed.shared_state[0].handle.code, code::kFile);
    EXPECT_EQ(s.operators[0].subtasks[0].managed_keyed.shared_state[0].handle.path, base + "/checkpoints/job/shared/sst-12");
  }
  {
    Snapshot s = build_all_kinds(6, base);
    RelocateOptions o;
    o.make_relative = true;
    o.snapshot_uri = base + "/checkpoints/job/shared";
    auto rep = relocate(s, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    EXPECT_EQ(rep->made_relative, 3u);  // sst-12, meta-mat, sst-20 (segments and directories never)
    const auto& sst12 = s.operators[0].subtasks[0].managed_keyed.shared_state[0].handle;
    EXPECT_EQ(sst12.code, code::kRelative);
    EXPECT_EQ(sst12.path, "sst-12");
    // shared/job_x/unaligned-0 is a segment; shared/job_x/op_0 a directory: both stay absolute.
    EXPECT_EQ(s.operators[1].subtasks[0].managed_operator.shared_dir, base + "/checkpoints/job/shared/job_x/op_0");
  }
}

TEST(Relocate, InlineNamesOnlyOnRequest) {
  Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
  RelocateOptions o;
  o.rules = {{"hdfs://nn/flink", "s3://x"}};
  Snapshot s2 = build_all_kinds(6, "hdfs://nn/flink");
  auto r1 = relocate(s, o);
  ASSERT_TRUE(r1.ok());
  o.include_inline_names = true;
  auto r2 = relocate(s2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->changed, r1->changed + 2);  // the names of the coordinator and the private CURRENT handles
  const auto& cur = s2.operators[0].subtasks[0].managed_keyed.private_state[1].handle;
  EXPECT_EQ(cur.path, "s3://x/savepoints/sp-1/current-0");
  EXPECT_EQ(s.operators[0].subtasks[0].managed_keyed.private_state[1].handle.path, "hdfs://nn/flink/savepoints/sp-1/current-0");
}

TEST(Relocate, MakeRelativeTurnsOwnDirectoryFilesIntoRelativeHandles) {
  for (int version : {3, 6, 7}) {
    SCOPED_TRACE("metadata v" + std::to_string(version));
    const std::string old_base = "hdfs://nn/flink", new_base = "s3://bucket/flink";
    Snapshot built = build_all_kinds(version, old_base);
    std::string bytes0;
    Snapshot s = reencode_decode(built, bytes0);
    auto before = path_rows(s);
    RelocateOptions o;
    o.rules = {{old_base, new_base}};
    o.make_relative = true;
    o.snapshot_uri = new_base + "/savepoints/sp-1/";
    auto rep = relocate(s, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    // meta-0, sst-14, manifest-0, raw-keyed-0, keyed-2, 2 channel files
    EXPECT_EQ(rep->made_relative, 7u);
    std::string bytes1;
    Snapshot back = reencode_decode(s, bytes1);
    auto after = path_rows(back);
    ASSERT_EQ(before.size(), after.size());
    const std::string dir = new_base + "/savepoints/sp-1";
    for (size_t i = 0; i < before.size(); ++i) {
      const auto &b = before[i], &a = after[i];
      EXPECT_EQ(a.size, b.size);
      if (a.code == code::kRelative && b.code == code::kFile) {
        // Resolves (as Flink does: new Path(exclusiveDir, relative)) to the moved file.
        EXPECT_EQ(dir + "/" + a.path, new_base + b.path.substr(old_base.size()));
        EXPECT_EQ(a.path.find('/'), std::string::npos);
      } else if (b.code == code::kFile) {
        EXPECT_EQ(a.code, code::kFile);
        EXPECT_EQ(a.path, new_base + b.path.substr(old_base.size()));
        EXPECT_NE(parent_path_of(a.path), dir);
      } else if (b.code == code::kSegmentFile) {
        EXPECT_EQ(a.code, code::kSegmentFile) << "segment handles never become relative";
      } else {
        EXPECT_EQ(a.code, b.code);
      }
    }
    // The summary: the only absolute paths left are outside the snapshot directory.
    SnapshotSummary sum = summarize(back);
    EXPECT_EQ(sum.relative_paths, 7 + 1);  // + the CLAIM-style relative sst-13
  }
}

TEST(Relocate, MakeRelativeRefusesV2AndNeedsAUri) {
  Snapshot s = build_all_kinds(6, "file:/x");
  s.version = 2;
  RelocateOptions o;
  o.make_relative = true;
  o.snapshot_uri = "file:/x/savepoints/sp-1";
  EXPECT_TRUE((test::is_error(relocate(s, o), ErrorKind::kUsage, {"--make-relative needs metadata version 3", "version 2"})));
  s.version = 6;
  o.snapshot_uri.clear();
  EXPECT_TRUE(test::is_error(relocate(s, o), ErrorKind::kUsage, {"--make-relative needs the snapshot directory URI"}));
  o.snapshot_uri = "/";
  EXPECT_TRUE(test::is_error(relocate(s, o), ErrorKind::kUsage, {"--snapshot-uri '/' is not a directory URI"}));
}

TEST(Relocate, TooLongPathIsAnErrorAndChangesNothing) {
  Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
  std::string bytes0 = *encode_metadata(s);
  RelocateOptions o;
  o.rules = {{"hdfs://nn/flink/checkpoints", "s3://" + std::string(65530, 'x')}};
  auto r = relocate(s, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("65535"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().where.find("operator #"), std::string::npos) << r.error().where;
  EXPECT_TRUE(*encode_metadata(s) == bytes0) << "the snapshot is unchanged after an error";
}

TEST(Relocate, BadRules) {
  Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
  RelocateOptions o;
  o.rules = {{"/", "s3://x"}};
  EXPECT_TRUE(test::is_error(relocate(s, o), ErrorKind::kUsage, {"--from '/' is empty (or only slashes)"}));
  o.rules = {{"hdfs://a", "s3://x"}, {"hdfs://a/", "s3://y"}};
  EXPECT_TRUE(test::is_error(relocate(s, o), ErrorKind::kUsage, {"--from 'hdfs://a/' is given twice"}));
  // A rule that maps a whole path to nothing.
  o.rules = {{"hdfs://nn/flink/savepoints/sp-1/meta-0", ""}};
  EXPECT_TRUE(test::is_error(relocate(s, o), ErrorKind::kUsage, {"into an empty path"}));
}

TEST(Relocate, NonAsciiPrefixesMatchModifiedUtf8) {
  Snapshot s;
  s.version = 3;
  Builder b(s);
  s.operators.resize(1);
  // "é" is C3 A9 in both encodings; U+1F600 is a surrogate pair (6 bytes) in modified UTF-8.
  std::string emoji_m = "\xED\xA0\xBD\xED\xB8\x80";
  s.operators[0].coordinator = b.file("s3://b/caf\xC3\xA9/" + emoji_m + "/f", 1);
  RelocateOptions o;
  o.rules = {{"s3://b/caf\xC3\xA9/\xF0\x9F\x98\x80", "s3://c/\xF0\x9F\x98\x80"}};
  auto r = relocate(s, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->changed, 1u);
  EXPECT_EQ(s.operators[0].coordinator.path, "s3://c/" + emoji_m + "/f");
}

// ---------------------------------------------------------------------------
// Library: every real file

TEST(RelocateRealFiles, NoMatchAndRoundTripAreByteIdentical) {
  FSP_REQUIRE_SHARED(shared);
  size_t files = 0, with_absolute = 0, rewritten = 0;
  for (const auto& path : all_real_files(shared)) {
    const std::string what = path.string();
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok()) << what << ": " << sf.error().to_string();
    const std::string original = test::read_file(path);
    ++files;
    // 1. A prefix that matches nothing.
    {
      RelocateOptions o;
      o.rules = {{"nothing://matches/this", "s3://elsewhere"}};
      auto rep = relocate(sf->snapshot, o);
      ASSERT_TRUE(rep.ok()) << what;
      EXPECT_EQ(rep->changed, 0u) << what;
      auto enc = encode_metadata(sf->snapshot);
      ASSERT_TRUE(enc.ok()) << what;
      EXPECT_TRUE(*enc == original) << what;
    }
    // 2. A -> B, then B -> A.
    auto a = first_absolute_dir(sf->snapshot);
    const std::string from = a ? *a : "file:/tmp";
    const std::string to = "s3://fsp-relocate-test/moved";
    with_absolute += a.has_value();
    nlohmann::json before = model_json(sf->snapshot);
    RelocateOptions o;
    o.rules = {{from, to}};
    auto rep = relocate(sf->snapshot, o);
    ASSERT_TRUE(rep.ok()) << what << ": " << rep.error().to_string();
    if (a) {
      EXPECT_GT(rep->changed, 0u) << what;
    }
    rewritten += rep->changed;
    auto enc = encode_metadata(sf->snapshot);
    ASSERT_TRUE(enc.ok()) << what;
    auto dec = decode_metadata(*enc);
    ASSERT_TRUE(dec.ok()) << what << ": " << dec.error().to_string();
    // 3. Only the rewritten paths differ in the JSON model (what `inspect --json` prints).
    expect_only_paths_differ(before, model_json(*dec), from, to, what, false);
    RelocateOptions back;
    back.rules = {{to, from}};
    ASSERT_TRUE(relocate(*dec, back).ok()) << what;
    auto enc2 = encode_metadata(*dec);
    ASSERT_TRUE(enc2.ok()) << what;
    EXPECT_TRUE(*enc2 == original) << what << ": A -> B -> A is not byte-identical";
  }
  EXPECT_GT(files, 480u);
  EXPECT_GE(with_absolute, 4u);  // at least the flink-written ones
  EXPECT_GT(rewritten, 0u);
}

TEST(RelocateRealFiles, InlineNamesRoundTripToo) {
  FSP_REQUIRE_SHARED(shared);
  size_t inline_renamed = 0;
  for (const auto& path : all_real_files(shared)) {
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok());
    const std::string original = test::read_file(path);
    nlohmann::json before = model_json(sf->snapshot);
    RelocateOptions o;
    o.rules = {{"file:", "s3://fsp-inline-test"}};
    o.include_inline_names = true;
    auto rep = relocate(sf->snapshot, o);
    ASSERT_TRUE(rep.ok());
    for (const auto& c : rep->changes) inline_renamed += c.kind == PathKind::kInlineName;
    auto enc = encode_metadata(sf->snapshot);
    ASSERT_TRUE(enc.ok());
    auto dec = decode_metadata(*enc);
    ASSERT_TRUE(dec.ok());
    expect_only_paths_differ(before, model_json(*dec), "file:", "s3://fsp-inline-test", path.string(), true);
    RelocateOptions back;
    back.rules = {{"s3://fsp-inline-test", "file:"}};
    back.include_inline_names = true;
    ASSERT_TRUE(relocate(*dec, back).ok());
    EXPECT_TRUE(*encode_metadata(*dec) == original) << path;
  }
  EXPECT_GT(inline_renamed, 0u) << "table-state files have inline names file:/tmp/flink/...";
}

TEST(RelocateRealFiles, FlinkWrittenMakeRelative) {
  FSP_REQUIRE_SHARED(shared);
  for (const char* ver : {"v3", "v4", "v5", "v6"}) {
    auto path = shared / "testdata" / "flink-written" / ver / "_metadata";
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok());
    auto before = path_rows(sf->snapshot);
    // The absolute files of these checkpoints sit in file:/abs/chk-7 (and shared/, dstl/, taskowned/).
    RelocateOptions o;
    o.make_relative = true;
    o.snapshot_uri = "file:/abs/chk-7";
    auto rep = relocate(sf->snapshot, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    std::string holder;
    Snapshot back = reencode_decode(sf->snapshot, holder);
    auto after = path_rows(back);
    ASSERT_EQ(before.size(), after.size());
    size_t made = 0;
    for (size_t i = 0; i < before.size(); ++i) {
      if (before[i].code == code::kFile && after[i].code == code::kRelative) {
        ++made;
        EXPECT_EQ("file:/abs/chk-7/" + after[i].path, before[i].path);
        EXPECT_EQ(after[i].size, before[i].size);
      } else {
        EXPECT_EQ(after[i].path, before[i].path);
      }
    }
    EXPECT_EQ(made, rep->made_relative) << ver;
  }
}

// plan_relocation + the encoder's rewriter (what `relocate --output` streams)
// against relocate() + encode_metadata: the same report and the same bytes.
void expect_plan_matches_relocate(const fs::path& path, const RelocateOptions& o, const std::string& what,
                                  uint64_t* changed = nullptr, uint64_t* made_relative = nullptr) {
  auto streamed_in = open_snapshot(path.string());
  ASSERT_TRUE(streamed_in.ok()) << what;
  auto plan = plan_relocation(streamed_in->snapshot, o);
  auto stored_in = open_snapshot(path.string());
  ASSERT_TRUE(stored_in.ok()) << what;
  auto rep = relocate(stored_in->snapshot, o);
  ASSERT_EQ(plan.ok(), rep.ok()) << what;
  if (!rep.ok()) {
    EXPECT_EQ(plan.error().to_string(), rep.error().to_string()) << what;
    return;
  }
  const RelocateReport &p = plan->report, &r = *rep;
  EXPECT_EQ(p.changed, r.changed) << what;
  EXPECT_EQ(p.made_relative, r.made_relative) << what;
  EXPECT_EQ(p.absolute_paths, r.absolute_paths) << what;
  EXPECT_EQ(p.unmatched_absolute, r.unmatched_absolute) << what;
  EXPECT_EQ(p.unmatched_examples, r.unmatched_examples) << what;
  EXPECT_EQ(p.already_under_to, r.already_under_to) << what;
  EXPECT_EQ(p.already_under_to_example, r.already_under_to_example) << what;
  EXPECT_TRUE(p.changes.empty()) << what;
  auto expected = encode_metadata(stored_in->snapshot);
  ASSERT_TRUE(expected.ok()) << what;
  std::string got;
  Status st = encode_metadata_to(streamed_in->snapshot, [&](std::string_view b) -> Status {
    got.append(b);
    return {};
  }, plan->rewriter);
  ASSERT_TRUE(st.ok()) << what << ": " << st.error().to_string();
  EXPECT_TRUE(got == *expected) << what << ": streamed " << got.size() << " bytes, stored " << expected->size();
  if (changed) *changed += r.changed;
  if (made_relative) *made_relative += r.made_relative;
}

TEST(RelocateRealFiles, PlanAndRewriterGiveTheBytesOfRelocate) {
  FSP_REQUIRE_SHARED(shared);
  uint64_t changed = 0, inline_changed = 0, made_relative = 0;
  for (const auto& path : all_real_files(shared)) {
    const std::string what = path.string();
    auto sf = open_snapshot(what);
    ASSERT_TRUE(sf.ok()) << what;
    auto a = first_absolute_dir(sf->snapshot);
    RelocateOptions o;
    o.rules = {{a ? *a : "file:/tmp", "s3://fsp-relocate-test/moved"}, {"nothing://matches", "s3://x"}};
    o.collect_changes = false;
    expect_plan_matches_relocate(path, o, what, &changed);
    RelocateOptions in;
    in.rules = {{"file:", "s3://fsp-inline-test"}};
    in.include_inline_names = true;
    expect_plan_matches_relocate(path, in, what + " (inline names)", &inline_changed);
  }
  // The corpus holds few absolute paths (the Flink test resources are mostly inline).
  EXPECT_GE(changed, 4u);
  EXPECT_GT(inline_changed, 1000u) << "table-state files have inline names file:/tmp/flink/...";
  // --make-relative, with the relative name in the rule's `to` or in the rest of the path.
  for (const char* ver : {"v3", "v4", "v5", "v6"}) {
    auto path = shared / "testdata" / "flink-written" / ver / "_metadata";
    auto sf = open_snapshot(path.string());
    ASSERT_TRUE(sf.ok());
    std::string direct;  // a code-2 file directly in file:/abs/chk-7
    for_each_stream_handle(sf->snapshot, [&](const StreamHandle& h, const HandleLocation&) {
      if (direct.empty() && h.code == code::kFile && h.path.rfind("file:/abs/chk-7/", 0) == 0 &&
          h.path.find('/', 16) == Str::npos)
        direct = std::string(h.path);
    });
    ASSERT_FALSE(direct.empty()) << ver;
    RelocateOptions o;
    o.make_relative = true;
    o.snapshot_uri = "file:///abs/chk-7/";
    o.rules = {{"file:/abs", "file:/abs"}, {direct, "file:/abs/chk-7/renamed"}, {"file:/abs/chk-7/shared", "s3://b/shared"}};
    uint64_t before = made_relative;
    expect_plan_matches_relocate(path, o, std::string(ver) + " make-relative", nullptr, &made_relative);
    EXPECT_GT(made_relative, before) << ver;
    RelocateOptions plain;
    plain.make_relative = true;
    plain.snapshot_uri = "file:/abs/chk-7";
    expect_plan_matches_relocate(path, plain, std::string(ver) + " make-relative only", nullptr, &made_relative);
  }
  // Errors are the same: --make-relative on v2, an empty result.
  const auto rows = test::manifest();
  auto v2 = std::find_if(rows.begin(), rows.end(), [](const auto& row) { return row.metadata_version == 2; });
  EXPECT_NE(v2, rows.end()) << "the corpus has v2 files (Flink 1.6-1.10)";
  if (v2 != rows.end()) {
    RelocateOptions o;
    o.make_relative = true;
    o.snapshot_uri = "file:/x";
    expect_plan_matches_relocate(shared / "testdata" / "flink-repo" / v2->path, o, "v2 make-relative");
  }
  RelocateOptions empty;
  empty.rules = {{"file:", ""}};
  expect_plan_matches_relocate(shared / "testdata" / "flink-written" / "v4" / "_metadata", empty, "empty result");
}

TEST(RelocateWrite, StreamedRewriteIsWrittenAndChecked) {
  FSP_REQUIRE_SHARED(shared);
  auto path = shared / "testdata" / "flink-written" / "v5" / "_metadata";
  RelocateOptions o;
  o.rules = {{"file:/abs", "s3://bucket/abs"}};
  auto stored = open_snapshot(path.string());
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(relocate(stored->snapshot, o).ok());
  auto expected = encode_metadata(stored->snapshot);
  ASSERT_TRUE(expected.ok());

  TempDir t;
  const std::string target = (t.path / "_metadata").string();
  auto sf = open_snapshot(path.string());
  ASSERT_TRUE(sf.ok());
  auto plan = plan_relocation(sf->snapshot, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->report.changed, 8u) << "the absolute paths of the v5 checkpoint (inspect --handles)";
  bool released = false;
  Status st = write_snapshot_atomically(target, sf->snapshot, {}, [&] { released = true; sf->snapshot = Snapshot{}; },
                                        plan->rewriter);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(released);
  EXPECT_TRUE(test::read_file(target) == *expected);

  // A rewriter that does not agree with itself (the model the check expects
  // is not what was written) is caught by the read-back check.
  auto again = open_snapshot(path.string());
  ASSERT_TRUE(again.ok());
  int calls = 0;
  PathRewriter flaky = [&](Str p, PathKind kind, PathRewrite& out) {
    if (++calls != 3) return plan->rewriter(p, kind, out);
    out.head = "s3://bucket/other";
    out.tail = {};
    out.relative = false;
    return true;
  };
  auto plan2 = plan_relocation(again->snapshot, o);
  ASSERT_TRUE(plan2.ok());
  const std::string other = (t.path / "other").string();
  st = write_snapshot_atomically(other, again->snapshot, {}, {}, flaky);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("decodes to another snapshot"), std::string::npos) << st.error().to_string();
  EXPECT_FALSE(fs::exists(other));
}

// ---------------------------------------------------------------------------
// Verify and copy plan

TEST(Relocate, VerifyFindsMissingAndWrongSizedFiles) {
  TempDir t;
  const std::string base = "s3://bkt/flink";
  Snapshot s = build_all_kinds(6, base);
  fs::path mirror = t.path / "mirror";
  // Create every referenced file with the right size except three: one absent,
  // one a byte short, one (the first other whole file) a byte longer than its
  // handle records.
  size_t expected_missing = 0;
  std::string longer;
  int64_t longer_size = -1;
  for_each_stream_handle(s, [&](const StreamHandle& h, const HandleLocation&) {
    if (h.code != code::kFile && h.code != code::kSegmentFile) return;
    std::string rel = std::string(h.path).substr(base.size());
    fs::path p = mirror.string() + rel;
    fs::create_directories(p.parent_path());
    if (rel == "/checkpoints/job/shared/sst-12") { ++expected_missing; return; }
    int64_t size = h.code == code::kSegmentFile ? h.start_pos() + h.state_size : h.state_size;
    if (rel == "/dstl/log-1") { size -= 1; ++expected_missing; }
    if (longer.empty() && h.code == code::kFile && rel != "/dstl/log-1") {
      longer = rel;
      longer_size = size;
      ++expected_missing;
    }
    if (rel == longer) size = longer_size + 1;
    write_file(p, std::string(static_cast<size_t>(size), 'x'));
  });
  ASSERT_FALSE(longer.empty());
  for_each_path(s, [&](const Str& p, PathKind k, const HandleLocation&) {
    if (k == PathKind::kDirectory) fs::create_directories(mirror.string() + std::string(p).substr(base.size()));
  });
  // Relative handles resolve against the snapshot directory.
  fs::create_directories(t.path / "snap");
  write_file(t.path / "snap" / "sst-13", std::string(13000, 'x'));

  auto unmapped = verify_files(s, (t.path / "snap").string(), {});
  EXPECT_GT(unmapped.not_checked, 0u);
  EXPECT_TRUE(unmapped.missing.empty());

  auto rep = verify_files(s, (t.path / "snap").string(), {{base, mirror.string()}});
  EXPECT_EQ(rep.not_checked, 0u);
  ASSERT_EQ(rep.missing.size(), expected_missing);
  for (const auto& m : rep.missing) {
    if (m.path == base + "/dstl/log-1") {
      EXPECT_EQ(m.actual_size, 899);
      EXPECT_EQ(m.expected_size, 900);
    } else if (m.path == base + longer) {
      EXPECT_EQ(m.actual_size, longer_size + 1);
      EXPECT_EQ(m.expected_size, longer_size);
    } else {
      EXPECT_EQ(m.path, base + "/checkpoints/job/shared/sst-12");
      EXPECT_EQ(m.actual_size, -1);
    }
  }

  // file: URIs are local without a map.
  RelocateOptions o;
  o.rules = {{base, "file:" + mirror.string()}};
  ASSERT_TRUE(relocate(s, o).ok());
  auto rep2 = verify_files(s, (t.path / "snap").string(), {});
  EXPECT_EQ(rep2.not_checked, 0u);
  EXPECT_EQ(rep2.missing.size(), expected_missing);
}

TEST(Relocate, CopyPlanGroupsByDirectory) {
  Snapshot s = build_all_kinds(6, "hdfs://nn:8020/flink");
  RelocateOptions o;
  o.rules = {{"hdfs://nn:8020/flink", "s3://bucket/flink"}};
  auto rep = relocate(s, o);
  ASSERT_TRUE(rep.ok());
  auto plan = copy_plan(rep->changes);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_FALSE(plan->empty());
  size_t files = 0;
  for (const auto& st : *plan) {
    files += st.files;
    EXPECT_EQ(st.command.rfind("hdfs dfs -mkdir -p 's3a://bucket/flink", 0), 0u) << st.command;
    EXPECT_NE(st.command.find("hdfs dfs -cp -p 'hdfs://nn:8020/flink"), std::string::npos) << st.command;
  }
  EXPECT_EQ(files, 12u + 4u);  // every absolute file and segment handle
  const size_t dirs = plan->size();
  EXPECT_EQ(dirs, 6u);  // savepoints/sp-1, shared, shared/job_x, taskowned, taskowned/job_x, dstl

  // The object stores' own copy commands, one per directory as for HDFS.
  struct Store {
    const char *base, *from, *to, *command, *destination;
  };
  for (const Store& store : {Store{"s3://old-bucket/flink", "s3://old-bucket", "s3://new-bucket",
                                   "aws s3 cp --recursive 's3://old-bucket/flink/", " 's3://new-bucket/flink/"},
                             Store{"gs://old/flink", "gs://old", "gs://new", "gsutil -m cp -r 'gs://old/flink/",
                                   " 'gs://new/flink/"}}) {
    SCOPED_TRACE(store.base);
    Snapshot other = build_all_kinds(6, store.base);
    o.rules = {{store.from, store.to}};
    rep = relocate(other, o);
    ASSERT_TRUE(rep.ok());
    auto other_plan = copy_plan(rep->changes);
    ASSERT_TRUE(other_plan.ok());
    EXPECT_EQ(other_plan->size(), dirs);
    for (const auto& st : *other_plan) {
      EXPECT_EQ(st.command.rfind(store.command, 0), 0u) << st.command;
      EXPECT_NE(st.command.find(store.destination), std::string::npos) << st.command;
    }
  }
}

// ---------------------------------------------------------------------------
// Atomic writing

struct WriteFixture {
  TempDir t;
  fs::path target;
  std::string original, updated;
  Snapshot expected;
  WriteFixture() {
    target = t.path / "_metadata";
    Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
    original = *encode_metadata(s);
    write_file(target, original);
    RelocateOptions o;
    o.rules = {{"hdfs://nn/flink", "s3://b/flink"}};
    EXPECT_TRUE(relocate(s, o).ok());
    updated = *encode_metadata(s);
    expected = std::move(s);
  }
  size_t entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(t.path)) ++n;
    return n;
  }
};

TEST(RelocateWrite, InPlaceKeepsABackup) {
  WriteFixture f;
  WriteOptions wo;
  wo.backup_path = f.target.string() + ".bak";
  ASSERT_TRUE(write_metadata_atomically(f.target.string(), f.expected, f.updated, wo).ok());
  EXPECT_TRUE(test::read_file(f.target) == f.updated);
  EXPECT_TRUE(test::read_file(wo.backup_path) == f.original);
  EXPECT_EQ(f.entries(), 2u) << "no temporary file left";
  // A second in-place run refuses: the backup exists.
  auto st = write_metadata_atomically(f.target.string(), f.expected, f.updated, wo);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kCantCreate);
}

TEST(RelocateWrite, RefusesToReplaceWithoutPermission) {
  WriteFixture f;
  auto st = write_metadata_atomically(f.target.string(), f.expected, f.updated, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kCantCreate);
  EXPECT_TRUE(test::read_file(f.target) == f.original);
}

TEST(RelocateWrite, FullDiskLeavesTheOriginalUntouched) {
  WriteFixture f;
  WriteOptions wo;
  wo.backup_path = f.target.string() + ".bak";
  size_t budget = 1000;  // the disk fills up after 1000 bytes
  wo.hooks.write = [&](int fd, const void* p, size_t n) -> ssize_t {
    if (budget == 0) {
      errno = ENOSPC;
      return -1;
    }
    size_t k = std::min(n, budget);
    budget -= k;
    return ::write(fd, p, k);
  };
  auto st = write_metadata_atomically(f.target.string(), f.expected, f.updated, wo);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_NE(st.error().message.find("No space left"), std::string::npos) << st.error().message;
  EXPECT_TRUE(test::read_file(f.target) == f.original);
  EXPECT_EQ(f.entries(), 1u) << "neither a temporary file nor a backup is left";
}

TEST(RelocateWrite, FailingFsyncOrRenameLeavesTheOriginalUntouched) {
  for (int which : {0, 1}) {
    WriteFixture f;
    WriteOptions wo;
    wo.backup_path = f.target.string() + ".bak";
    if (which == 0) wo.hooks.fsync = [](int) { errno = EIO; return -1; };
    else wo.hooks.rename = [](const char*, const char*) { errno = EXDEV; return -1; };
    auto st = write_metadata_atomically(f.target.string(), f.expected, f.updated, wo);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, ErrorKind::kIo);
    EXPECT_TRUE(test::read_file(f.target) == f.original);
    EXPECT_EQ(f.entries(), 1u);
  }
}

TEST(RelocateWrite, ReadBackCheckCatchesAModelMismatch) {
  WriteFixture f;
  WriteOptions wo;
  wo.overwrite = true;
  // The bytes are the original's but the expected model is the relocated one.
  auto st = write_metadata_atomically(f.target.string(), f.expected, f.original, wo);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("another snapshot"), std::string::npos) << st.error().message;
  EXPECT_EQ(f.entries(), 1u);
}

// A backup on another file system cannot be a hard link: the original is copied
// (same bytes, same mode), then the target is replaced.
TEST(RelocateWrite, BackupOnAnotherFileSystemIsACopy) {
  const fs::path other = "/dev/shm";
  struct stat a {}, b {};
  WriteFixture f;
  if (::stat(other.c_str(), &b) != 0 || ::stat(f.t.path.c_str(), &a) != 0 || a.st_dev == b.st_dev) {
    if (test::in_ci()) FAIL() << "/dev/shm must be a separate (tmpfs) file system from " << f.t.path << " under CI=true";
    GTEST_SKIP() << "/dev/shm is not a separate file system here: the copy fallback cannot be reached";
  }
  ASSERT_EQ(::chmod(f.target.c_str(), 0640), 0);
  WriteOptions wo;
  wo.backup_path = (other / ("fsp-relocate-backup-" + std::to_string(::getpid()))).string();
  fs::remove(wo.backup_path);
  int writes = 0;
  wo.hooks.write = [&](int fd, const void* p, size_t n) -> ssize_t {
    ++writes;
    return ::write(fd, p, n);
  };
  auto st = write_metadata_atomically(f.target.string(), f.expected, f.updated, wo);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(test::read_file(f.target) == f.updated);
  EXPECT_TRUE(test::read_file(wo.backup_path) == f.original);
  struct stat bst {};
  ASSERT_EQ(::stat(wo.backup_path.c_str(), &bst), 0);
  EXPECT_EQ(bst.st_mode & 07777, 0640u);
  EXPECT_EQ(bst.st_nlink, 1u) << "a copy, not a link";
  struct stat tst {};
  ASSERT_EQ(::stat(f.target.c_str(), &tst), 0);
  EXPECT_EQ(tst.st_mode & 07777, 0640u) << "the new _metadata keeps the original's mode";
  EXPECT_GE(writes, 2) << "the new file and the backup copy are both written";

  // The copy failing (the backup's file system full) leaves the target as it was and no backup.
  fs::remove(wo.backup_path);
  write_file(f.target, f.original);
  int n = 0;
  wo.hooks.write = [&](int fd, const void* p, size_t len) -> ssize_t {
    if (++n == 1) return ::write(fd, p, len);  // the new _metadata
    errno = ENOSPC;
    return -1;
  };
  st = write_metadata_atomically(f.target.string(), f.expected, f.updated, wo);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kIo);
  EXPECT_NE(st.error().message.find("writing the backup"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("No space left"), std::string::npos) << st.error().message;
  EXPECT_TRUE(test::read_file(f.target) == f.original);
  EXPECT_FALSE(fs::exists(wo.backup_path));
  EXPECT_EQ(f.entries(), 1u);
}

TEST(RelocateWrite, UnwritableDirectoryIsCantCreate) {
  Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
  std::string bytes = *encode_metadata(s);
  // /proc refuses new files even for root.
  auto st = write_metadata_atomically("/proc/fsp-relocate-test/_metadata", s, bytes, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kCantCreate);
}

// ---------------------------------------------------------------------------
// The command line

std::string q(const fs::path& p) { return test::shell_quote(p.string()); }

struct CliFixture {
  TempDir t;
  fs::path snap, meta;
  std::string original;
  CliFixture() {
    snap = t.path / "sp-1";
    fs::create_directories(snap);
    meta = snap / "_metadata";
    Snapshot s = build_all_kinds(6, "hdfs://nn/flink");
    original = *encode_metadata(s);
    write_file(meta, original);
  }
  test::CommandResult run(const std::string& args) {
    return test::run_command(test::cli_path() + " relocate " + q(meta) + " " + args + " 2>&1");
  }
};

TEST(RelocateCli, DryRunPrintsChangesAndWritesNothing) {
  CliFixture f;
  auto r = f.run("--from hdfs://nn/flink --to s3://b/flink --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("- hdfs://nn/flink/checkpoints/job/shared/sst-12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ s3://b/flink/checkpoints/job/shared/sst-12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shared state 000012.sst"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("24 path(s) would be rewritten"), std::string::npos) << r.out;
  EXPECT_TRUE(test::read_file(f.meta) == f.original);
  EXPECT_EQ(std::distance(fs::directory_iterator(f.snap), fs::directory_iterator()), 1);

  // The snapshot may also come last: each --from/--to takes one value.
  auto last = test::run_command(test::cli_path() + " relocate --from hdfs://nn/flink --to s3://b/flink --dry-run " + q(f.meta) + " 2>&1");
  EXPECT_EQ(last.exit_code, 0) << last.out;
  EXPECT_NE(last.out.find("24 path(s) would be rewritten"), std::string::npos) << last.out;

  auto j = f.run("--from hdfs://nn/flink --to s3://b/flink --dry-run --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["changed"], 24);
  EXPECT_EQ(doc["changes"].size(), 24u);
  EXPECT_EQ(doc["written"], false);
  EXPECT_EQ(doc["changes"][0]["kind"], "absolute");
}

TEST(RelocateCli, OutputInPlaceAndRefusals) {
  CliFixture f;
  // Output == input is refused.
  auto r = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(f.meta));
  EXPECT_EQ(r.exit_code, 64) << r.out;
  r = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(f.snap));  // the directory: its _metadata
  EXPECT_EQ(r.exit_code, 64) << r.out;
  // No mode.
  EXPECT_EQ(f.run("--from hdfs://nn/flink --to s3://b/flink").exit_code, 64);
  // Unpaired --from.
  EXPECT_EQ(f.run("--from hdfs://nn/flink --dry-run").exit_code, 64);
  // Missing input.
  EXPECT_EQ(test::run_command(test::cli_path() + " relocate /nonexistent/_metadata --from a --to b --dry-run 2>&1").exit_code, 66);

  fs::path out = f.t.path / "out";
  fs::create_directories(out);
  r = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string relocated_b = test::read_file(out / "_metadata");
  EXPECT_FALSE(relocated_b == f.original);
  auto sf = open_snapshot((out / "_metadata").string());
  ASSERT_TRUE(sf.ok());
  EXPECT_EQ(sf->snapshot.operators[0].subtasks[0].managed_keyed.delegate.path, "s3://b/flink/savepoints/sp-1/meta-0");
  // An existing output needs --force.
  EXPECT_EQ(f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(out)).exit_code, 73);
  EXPECT_EQ(f.run("--from hdfs://nn/flink --to s3://c/flink --output " + q(out) + " --force").exit_code, 0);

  // In place: keeps _metadata.bak; a second run refuses.
  r = f.run("--from hdfs://nn/flink --to s3://b/flink --in-place");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(test::read_file(f.snap / "_metadata.bak") == f.original);
  EXPECT_TRUE(test::read_file(f.meta) == relocated_b) << "in place writes what --output wrote for the same rules";
  EXPECT_EQ(f.run("--from s3://b/flink --to hdfs://nn/flink --in-place").exit_code, 73);
  fs::remove(f.snap / "_metadata.bak");
  r = f.run("--from s3://b/flink --to hdfs://nn/flink --in-place");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(test::read_file(f.meta) == f.original) << "B -> A restores the bytes";
}

TEST(RelocateCli, MakeRelativeDefaultsToTheResultDirectory) {
  CliFixture f;
  // Move the "files" of sp-1 to the local snapshot directory: the default snapshot URI is file:<dir>.
  fs::path out = f.t.path / "moved";
  fs::create_directories(out);
  auto r = f.run("--from hdfs://nn/flink/savepoints/sp-1 --to " + q("file:" + out.string()) + " --make-relative --output " + q(out));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("7 made relative"), std::string::npos) << r.out;
  auto sf = open_snapshot((out / "_metadata").string());
  ASSERT_TRUE(sf.ok());
  const auto& meta = sf->snapshot.operators[0].subtasks[0].managed_keyed.delegate;
  EXPECT_EQ(meta.code, code::kRelative);
  EXPECT_EQ(meta.path, "meta-0");
}

TEST(RelocateCli, VerifyMissingExitsOneAndWritesNothing) {
  CliFixture f;
  fs::path out = f.t.path / "out" ;
  fs::create_directories(out);
  fs::path mirror = f.t.path / "mirror";
  auto r = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(out) + " --verify --path-map " +
                 q("s3://b/flink=" + mirror.string()));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("missing: s3://b/flink/checkpoints/job/shared/sst-12"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("nothing written"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out / "_metadata"));
}

TEST(RelocateCli, PrintCopyPlan) {
  CliFixture f;
  auto r = f.run("--from hdfs://nn/flink --to s3://b/flink --print-copy-plan");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("hdfs dfs -cp -p 'hdfs://nn/flink/checkpoints/job/shared/*' 's3a://b/flink/checkpoints/job/shared/'"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(test::read_file(f.meta) == f.original);
}

TEST(RelocateCli, DryRunJsonNamesLocalFilesOfIncrementalEntries) {
  CliFixture f;
  auto j = test::run_command(test::cli_path() + " relocate " + q(f.meta) +
                             " --from hdfs://nn/flink --to s3://b/flink --dry-run --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  auto doc = nlohmann::json::parse(j.out);
  ASSERT_EQ(doc["changes"].size(), 24u);
  size_t with_local = 0;
  for (const auto& c : doc["changes"]) {
    if (!c.contains("local_path")) continue;
    ++with_local;
    if (c["old_path"] == "hdfs://nn/flink/checkpoints/job/shared/sst-12") {
      EXPECT_EQ(c["local_path"], "000012.sst");
      EXPECT_EQ(c["role"], "shared state");
      EXPECT_EQ(c["new_path"], "s3://b/flink/checkpoints/job/shared/sst-12");
      EXPECT_EQ(c["operator_id"], "01000000000000000000000000000000");
      EXPECT_EQ(c["subtask"], 0);
    }
  }
  // 000012.sst, 000014.sst, MANIFEST-000004 (subtask 0) and 000020.sst (materialized, subtask 1)
  EXPECT_EQ(with_local, 4u) << j.out;
}

TEST(RelocateCli, VerifyJsonListsEachMissingFileWithWhereItWasLooked) {
  CliFixture f;
  fs::path out = f.t.path / "out";
  fs::create_directories(out);
  fs::path mirror = f.t.path / "mirror";
  auto r = test::run_command(test::cli_path() + " relocate " + q(f.meta) + " --from hdfs://nn/flink --to s3://b/flink --output " +
                             q(out) + " --verify --json --path-map " + q("s3://b/flink=" + mirror.string()));
  ASSERT_EQ(r.exit_code, 1) << r.out;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["written"], false);
  EXPECT_EQ(doc["changed"], 24);
  EXPECT_EQ(doc["dry_run"], false);
  const auto& v = doc["verify"];
  EXPECT_EQ(v["not_checked"], 0);
  // Every absolute file, segment file and directory is looked at in the (empty) mirror; the relative sst-13 in out/.
  EXPECT_EQ(v["checked"].get<int>(), static_cast<int>(v["missing"].size()));
  bool found = false;
  for (const auto& m : v["missing"]) {
    if (m["path"] != "s3://b/flink/checkpoints/job/shared/sst-12") continue;
    found = true;
    EXPECT_EQ(m["local_path"], (mirror / "checkpoints/job/shared/sst-12").string());
    EXPECT_EQ(m["expected_size"], 12000);
    EXPECT_TRUE(m["actual_size"].is_null());
    EXPECT_EQ(m["directory"], false);
    EXPECT_NE(m["where"].get<std::string>().find("operator #0"), std::string::npos) << m["where"];
  }
  EXPECT_TRUE(found) << r.out;
  EXPECT_FALSE(fs::exists(out / "_metadata"));
}

TEST(RelocateCli, PrintCopyPlanJson) {
  CliFixture f;
  auto r = test::run_command(test::cli_path() + " relocate " + q(f.meta) +
                             " --from hdfs://nn/flink --to s3://b/flink --print-copy-plan --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["copy_plan"].size(), 6u) << r.out;
  int files = 0;
  bool shared = false;
  for (const auto& st : doc["copy_plan"]) {
    files += st["files"].get<int>();
    EXPECT_EQ(st["from"].get<std::string>().rfind("hdfs://nn/flink/", 0), 0u) << st;
    EXPECT_EQ(st["to"].get<std::string>().rfind("s3://b/flink/", 0), 0u) << st;
    if (st["from"] == "hdfs://nn/flink/checkpoints/job/shared") {
      shared = true;
      EXPECT_EQ(st["to"], "s3://b/flink/checkpoints/job/shared");
      EXPECT_EQ(st["files"], 3);
      EXPECT_EQ(st["command"],
                "hdfs dfs -mkdir -p 's3a://b/flink/checkpoints/job/shared' && hdfs dfs -cp -p "
                "'hdfs://nn/flink/checkpoints/job/shared/*' 's3a://b/flink/checkpoints/job/shared/'");
    }
  }
  EXPECT_TRUE(shared) << r.out;
  EXPECT_EQ(files, 16);
  EXPECT_EQ(doc["written"], false);
  EXPECT_TRUE(test::read_file(f.meta) == f.original);
}

TEST(RelocateCli, StandardInputUnmatchedPathsAndUsageErrors) {
  CliFixture f;
  auto in = [&](const std::string& args) {
    return test::run_command("cat " + q(f.meta) + " | " + test::cli_path() + " relocate - " + args + " 2>&1");
  };
  // Only the savepoint directory is mapped: the rest is listed as unmatched, by directory.
  auto r = in("--from hdfs://nn/flink/savepoints --to s3://b/sp --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("7 path(s) would be rewritten of 24 absolute path(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("17 absolute path(s) matched no --from prefix, e.g. under:\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  hdfs://nn/flink/checkpoints/job/shared\n"), std::string::npos) << r.out;
  auto j = test::run_command("cat " + q(f.meta) + " | " + test::cli_path() +
                             " relocate - --from hdfs://nn/flink/savepoints --to s3://b/sp --dry-run --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["input"], "-");
  EXPECT_EQ(doc["unmatched_absolute"], 17);
  EXPECT_EQ(doc["absolute_paths"], 24);
  EXPECT_EQ(doc["unmatched_directories"].size(), 5u);  // at most five examples

  auto usage = [&](const std::string& args, const std::string& says) {
    auto u = in(args);
    EXPECT_EQ(u.exit_code, 64) << args << ": " << u.out;
    EXPECT_NE(u.out.find(says), std::string::npos) << args << ": " << u.out;
  };
  usage("--from a --to b --in-place", "--in-place cannot rewrite standard input; use --output");
  usage("--make-relative --dry-run", "--make-relative on standard input needs --snapshot-uri URI");
  usage("--from a --to b --dry-run --output " + q(f.t.path / "x"), "choose one of --output, --in-place and --dry-run");
  usage("--from a --dry-run", "every --from needs a --to (1 --from, 0 --to)");
  usage("--dry-run", "nothing to do: give --from PREFIX --to PREFIX and/or --make-relative");
  usage("--from a --to b --dry-run --verify --path-map nomapping", "--path-map expects PREFIX=LOCAL_DIR");
  // From standard input to a file: written, and it decodes to the relocated model.
  fs::path out = f.t.path / "from-stdin";
  fs::create_directories(out);
  auto w = in("--from hdfs://nn/flink --to s3://b/flink --output " + q(out));
  ASSERT_EQ(w.exit_code, 0) << w.out;
  auto sf = open_snapshot((out / "_metadata").string());
  ASSERT_TRUE(sf.ok());
  EXPECT_EQ(sf->snapshot.operators[0].subtasks[0].managed_keyed.delegate.path, "s3://b/flink/savepoints/sp-1/meta-0");
}

TEST(RelocateCli, IncludeInlineNamesAndRelativeHandlesNote) {
  CliFixture f;
  auto r = f.run("--from hdfs://nn/flink --to s3://b/flink --dry-run --include-inline-names");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("26 path(s) would be rewritten"), std::string::npos) << r.out;  // + 2 inline names
  EXPECT_NE(r.out.find("[inline-name]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+ s3://b/flink/savepoints/sp-1/current-0"), std::string::npos) << r.out;
  // Writing elsewhere: the snapshot's relative handle (sst-13) resolves against the new directory: a note says so.
  fs::path out = f.t.path / "elsewhere";
  fs::create_directories(out);
  auto w = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(out));
  ASSERT_EQ(w.exit_code, 0) << w.out;
  EXPECT_NE(w.out.find("note: 1 relative handle(s) resolve against " + fs::weakly_canonical(out).string()), std::string::npos)
      << w.out;
  // Without relative handles there is nothing to note.
  Snapshot abs = build_all_kinds(6, "hdfs://nn/flink");
  Builder b(abs);
  abs.operators[0].subtasks[0].managed_keyed.shared_state[1].handle = b.file("hdfs://nn/flink/checkpoints/job/shared/sst-13", 13000);
  write_file(f.meta, *encode_metadata(abs));
  fs::path out2 = f.t.path / "elsewhere2";
  fs::create_directories(out2);
  auto w2 = f.run("--from hdfs://nn/flink --to s3://b/flink --output " + q(out2));
  ASSERT_EQ(w2.exit_code, 0) << w2.out;
  EXPECT_EQ(w2.out.find("note:"), std::string::npos) << w2.out;
  EXPECT_NE(w2.out.find("25 path(s) rewritten of 25 absolute path(s)"), std::string::npos) << w2.out;
}

TEST(RelocateCli, InspectJsonDiffersOnlyInRewrittenPaths) {
  FSP_REQUIRE_SHARED(shared);
  TempDir t;
  auto in = shared / "testdata" / "flink-written" / "v6" / "_metadata";
  auto out = t.path / "_metadata";
  auto r = test::run_command(test::cli_path() + " relocate " + q(in) + " --from file:/abs --to s3://bucket/abs --output " + q(out) + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto a = test::run_command(test::cli_path() + " inspect --json " + q(in));
  auto b = test::run_command(test::cli_path() + " inspect --json " + q(out));
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(b.exit_code, 0);
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  for (auto* j : {&ja, &jb}) {
    j->erase("metadata_path");
    j->erase("metadata_size");
  }
  expect_only_paths_differ(ja, jb, "file:/abs", "s3://bucket/abs", "v6", false);
  EXPECT_NE(ja, jb);
}

}  // namespace
}  // namespace fsp
