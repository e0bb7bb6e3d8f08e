// Job checkpoint directories built from a real incremental RocksDB
// checkpoint of ../shared, for the gc and copy tests: chk-1 and chk-2 share
// shared/ SSTs (absolute handles), chk-2 holds a file-merging segment, a
// savepoint elsewhere (--keep) points into shared/, and orphans of every kind
// are planted.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/walk.h"
#include "test_support.h"

namespace fsp::test {

namespace fs = std::filesystem;

inline void make_old(const fs::path& p, std::chrono::hours h = std::chrono::hours(3)) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - h);
}

inline const char* kSource = "flink-tests/src/test/resources/new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint";

// A job directory: chk-1, chk-2 (sharing shared/ SSTs), chk-2 with one
// segment handle into shared/merged-1, and the planted orphans.
struct JobDir {
  TempDir tmp;
  fs::path job, keep_dir;
  std::set<std::string> orphans;       // planted, old
  std::set<std::string> must_stay;     // planted but must be kept (young / in flight / --keep)
  fs::path keep_only;                  // referenced only by the --keep snapshot
};

// Rewrites a real checkpoint into `chk` under `job`: every private *.sst of
// the incremental handles becomes a shared entry with an absolute handle into
// job/shared (file moved there, shared by every chk built from the same source).
inline void build_checkpoint(const fs::path& src, const fs::path& job, const std::string& chk, int64_t id, bool with_segment) {
  auto sf = open_snapshot((src / "_metadata").string());
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  Snapshot& s = sf->snapshot;
  s.checkpoint_id = id;
  fs::path dir = job / chk;
  fs::create_directories(dir);
  fs::create_directories(job / "shared");
  bool segment_done = !with_segment;
  for (auto& op : s.operators)
    for (auto& st : op.subtasks) {
      KeyedHandle& k = st.managed_keyed;
      if (k.code != code::kIncremental && k.code != code::kIncrementalV2) continue;
      std::vector<NamedHandle> keep_private;
      for (auto& e : k.private_state) {
        std::string local(e.local_path);
        if (e.handle.code == code::kRelative && local.ends_with(".sst")) {
          std::string name(e.handle.path);
          fs::path target = job / "shared" / name;
          if (!fs::exists(target)) fs::copy_file(src / name, target);
          e.handle.code = code::kFile;
          e.handle.path = s.store("file:" + target.string());
          k.shared_state.push_back(e);
        } else {
          keep_private.push_back(e);
        }
      }
      k.private_state = keep_private;
      // One private file as a segment of a file-merging physical file that holds another, unreferenced segment too.
      if (!segment_done && !k.private_state.empty() && k.private_state[0].handle.code == code::kRelative) {
        NamedHandle& e = k.private_state[0];
        std::string bytes = read_file(src / std::string(e.handle.path));
        fs::path merged = job / "shared" / "merged-1";
        write_file(merged, std::string(100, 'x') + bytes + std::string(50, 'y'));
        e.handle.code = code::kSegmentFile;
        e.handle.set_scope(1);
        e.handle.set_start_pos(100);
        e.handle.state_size = static_cast<int64_t>(bytes.size());
        e.handle.path = s.store("file:" + merged.string());
        e.handle.set_data(s.store("logical-file-1"));
        segment_done = true;
      }
    }
  // The remaining relative files go into chk-N.
  for_each_stream_handle(std::as_const(s), [&](const StreamHandle& h, const HandleLocation&) {
    if (h.code == code::kRelative) fs::copy_file(src / std::string(h.path), dir / std::string(h.path), fs::copy_options::skip_existing);
  });
  auto bytes = encode_metadata(s);
  ASSERT_TRUE(bytes.ok()) << bytes.error().to_string();
  write_file(dir / "_metadata", *bytes);
}

inline void build_job(JobDir& j, const fs::path& shared) {
  fs::path src = shared / "testdata" / "flink-repo" / kSource;
  j.job = j.tmp.path / "job-1";
  build_checkpoint(src, j.job, "chk-1", 1, false);
  build_checkpoint(src, j.job, "chk-2", 2, true);
  // A --keep snapshot elsewhere pointing into this directory (a job restored in CLAIM/NO_CLAIM mode).
  j.keep_dir = j.tmp.path / "savepoint-x";
  j.keep_only = j.job / "shared" / "kept-by-savepoint";
  write_file(j.keep_only, "kept bytes");
  {
    auto sf = open_snapshot((src / "_metadata").string());
    ASSERT_TRUE(sf.ok());
    Snapshot& s = sf->snapshot;
    bool done = false;
    for_each_stream_handle(s, [&](StreamHandle& h, const HandleLocation&) {
      if (h.code != code::kRelative) return;
      if (!done) {
        h.code = code::kFile;
        h.path = s.store("file:" + j.keep_only.string());
        h.state_size = 10;
        done = true;
      } else {
        fs::create_directories(j.keep_dir);
        fs::copy_file(src / std::string(h.path), j.keep_dir / std::string(h.path), fs::copy_options::skip_existing);
      }
    });
    auto bytes = encode_metadata(s);
    ASSERT_TRUE(bytes.ok());
    write_file(j.keep_dir / "_metadata", *bytes);
  }
  // Everything built so far is old (well past --min-age).
  for (const auto& e : fs::recursive_directory_iterator(j.job)) make_old(e.path());

  auto plant = [&](const fs::path& p, std::string_view bytes, bool old, std::set<std::string>& into) {
    write_file(p, bytes);
    if (old) make_old(p);
    into.insert(p.string());
  };
  plant(j.job / "shared" / "0a0b-orphan-after-failed-checkpoint", "orphan sst", true, j.orphans);
  plant(j.job / "shared" / "merged-2", "a physical file none of whose segments is referenced", true, j.orphans);
  plant(j.job / "taskowned" / "tm-1" / "file-1", "task owned", true, j.orphans);
  plant(j.job / "chk-1" / "leftover-exclusive-file", "not in chk-1's _metadata", true, j.orphans);
  plant(j.job / "chk-3" / "aborted-1", "aborted checkpoint", true, j.orphans);
  plant(j.job / "chk-3" / "aborted-2", "aborted checkpoint", true, j.orphans);
  // Must stay: a fresh shared file (an in-flight checkpoint's upload), an
  // in-flight chk-4 (one old file, one fresh: the directory is young).
  plant(j.job / "shared" / "fresh-upload", "fresh", false, j.must_stay);
  plant(j.job / "chk-4" / "old-part", "in flight", true, j.must_stay);
  plant(j.job / "chk-4" / "new-part", "in flight", false, j.must_stay);
  // Outside chk-*/shared/taskowned: never considered.
  plant(j.job / "notes.txt", "not a checkpoint file", true, j.must_stay);
}

}  // namespace fsp::test
