// copy and gc against the s3rver test server (FSP_TEST_S3_ENDPOINT, started
// by scripts/test.sh): a real checkpoint copied local -> s3 -> s3 (server-side,
// inside the store) -> local reads the same states; a copy into the store
// interrupted then run again completes and never leaves a _metadata before
// it; archives to and from the store; gc over a job checkpoint directory
// uploaded to a prefix lists exactly the planted orphans and --delete removes
// exactly those. Skipped without the server; failing under CI=true.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "flink_savepoint/copy.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/gc.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/s3_file_system.h"
#include "flink_savepoint/snapshot_file.h"
#include "job_dir_builder.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::JobDir;
using test::TempDir;

using test::store_env;
using test::unique_prefix;
using test::use_test_server_in_process;

io::FileSystem& store_for(const std::string& uri) {
  auto fs = io::file_system_for(uri);
  EXPECT_TRUE(fs.ok());
  return **fs;
}

void put(const std::string& uri, std::string_view bytes, bool overwrite = false) {
  io::WriteOptions wo;
  wo.overwrite = overwrite;
  auto w = store_for(uri).create(uri, wo);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  ASSERT_TRUE((*w)->append(bytes).ok());
  Status c = (*w)->commit();
  ASSERT_TRUE(c.ok()) << c.error().to_string();
}

// Every object below a prefix: relative name -> (size, mtime).
std::map<std::string, io::FileInfo> objects_below(const std::string& prefix) {
  std::map<std::string, io::FileInfo> out;
  auto l = store_for(prefix).list(prefix, /*recursive=*/true);
  if (!l.ok()) {  // nothing below the prefix yet is "no such object or prefix"
    EXPECT_NE(l.error().message.find("no such object or prefix"), std::string::npos) << l.error().to_string();
    return out;
  }
  for (const io::FileInfo& f : *l)
    if (!f.is_directory) out[f.uri.substr(prefix.size() + 1)] = f;
  return out;
}

std::set<std::string> files_below(const fs::path& d) {
  std::set<std::string> out;
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::recursive_directory_iterator(d))
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), d).string());
  return out;
}

// `inspect --states --json` with the snapshot's own location taken out.
nlohmann::json inspect_states(const std::string& env, const std::string& where) {
  auto r = test::run_command(env + test::cli_path() + " inspect --states --json '" + where + "' 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_object()) j.erase("metadata_path");
  return j;
}

struct CliJson {
  std::vector<nlohmann::json> files;
  nlohmann::json summary;
};

CliJson run_json(const std::string& cmd, int expect_exit = 0) {
  auto r = test::run_command(cmd);
  EXPECT_EQ(r.exit_code, expect_exit) << cmd << "\n" << r.out;
  CliJson out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (j["type"] == "summary") out.summary = j;
    else out.files.push_back(j);
  }
  return out;
}

// Every file `where` references is present with the size its handle records
// (copy's source check, in a dry run).
void expect_all_files_present(const std::string& where) {
  auto sf = open_snapshot(where);
  ASSERT_TRUE(sf.ok()) << where << ": " << sf.error().to_string();
  TempDir t;
  CopyOptions o;
  o.dest = (t.path / "dry").string();
  o.dry_run = true;
  auto r = copy_snapshot(*sf, o);
  ASSERT_TRUE(r.ok()) << where << ": " << r.error().to_string();
  EXPECT_GE(r->files.size(), 20u) << where;
}

const char* kSource = test::kSource;  // the Flink 1.20 incremental RocksDB checkpoint: 82 files

TEST(CopyStore, LocalToTheStoreBetweenBucketsServerSideAndBackReadsTheSame) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  use_test_server_in_process(endpoint);
  const std::string env = store_env(endpoint);
  fs::path src = shared / "testdata" / "flink-repo" / kSource;
  const nlohmann::json expected = inspect_states("", src.string());
  ASSERT_TRUE(expected.is_object());
  ASSERT_EQ(expected["operators"].size(), 8u);

  // local -> s3: read here, written with PUTs.
  const std::string a = unique_prefix("fsp-test-a", "copy") + "/chk-1";
  auto up = run_json(env + test::cli_path() + " copy --json " + src.string() + " " + a);
  ASSERT_EQ(up.files.size(), 82u);
  EXPECT_EQ(up.summary["copied"], 82);
  EXPECT_EQ(up.summary["server_side"], 0);
  EXPECT_EQ(up.summary["metadata_written"], true);
  EXPECT_EQ(up.summary["metadata"], a + "/_metadata");
  auto objects = objects_below(a);
  std::set<std::string> want;
  for (const auto& f : up.files) want.insert(f["to"].get<std::string>().substr(a.size() + 1));
  want.insert("_metadata");
  std::set<std::string> got;
  uint64_t bytes = 0;
  int64_t newest_state_file = 0;
  for (const auto& [name, info] : objects) {
    got.insert(name);
    if (name != "_metadata") {
      bytes += info.size;
      newest_state_file = std::max(newest_state_file, info.mtime_ms);
    }
  }
  EXPECT_EQ(got, want);  // exactly the referenced files and _metadata
  EXPECT_EQ(bytes, up.summary["bytes"].get<uint64_t>());
  EXPECT_GE(objects["_metadata"].mtime_ms, newest_state_file);  // written last
  EXPECT_EQ(inspect_states(env, a), expected);

  // s3 -> s3 inside one endpoint (another bucket): CopyObject, no byte through this process.
  const std::string b = unique_prefix("fsp-test-b", "copy") + "/moved";
  auto r = test::run_command(env + test::cli_path() + " copy " + a + " " + b);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("copied 82 file(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("82 server-side, inside the store"), std::string::npos) << r.out;
  EXPECT_EQ(objects_below(b).size(), 83u);
  EXPECT_EQ(inspect_states(env, b), expected);
  {  // In process: the store's counters say the same.
    const std::string c = unique_prefix("fsp-test-a", "copy") + "/again";
    auto sf = open_snapshot(b);
    ASSERT_TRUE(sf.ok()) << sf.error().to_string();
    auto before = io::object_store_stats();
    CopyOptions o;
    o.dest = c;
    auto rep = copy_snapshot(*sf, o);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    auto after = io::object_store_stats();
    EXPECT_EQ(rep->copied, 82u);
    EXPECT_EQ(rep->server_side, 82u);
    EXPECT_TRUE(std::all_of(rep->files.begin(), rep->files.end(), [](const CopyFile& f) { return f.server_side; }));
    EXPECT_EQ(after.server_side_copies - before.server_side_copies, 82u);
    // Only _metadata was uploaded (the state files are ~230 KiB).
    uint64_t metadata_size = objects_below(c)["_metadata"].size;
    EXPECT_GT(metadata_size, 0u);
    EXPECT_EQ(after.bytes_sent - before.bytes_sent, metadata_size);
    EXPECT_GT(rep->bytes, 200000u);
  }

  // s3 -> local: ranged GETs, written locally.
  TempDir t;
  fs::path back = t.path / "back";
  auto down = run_json(env + test::cli_path() + " copy --json " + b + " " + back.string());
  EXPECT_EQ(down.summary["copied"], 82);
  EXPECT_EQ(down.summary["server_side"], 0);
  EXPECT_EQ(files_below(back).size(), 83u);
  EXPECT_EQ(inspect_states("", back.string()), expected);
  for (const auto& f : down.files) {
    std::string name = f["to"].get<std::string>().substr(back.string().size() + 1);
    EXPECT_EQ(test::read_file(back / name), test::read_file(src / name)) << name;
  }
}

TEST(CopyStore, AnInterruptedCopyIntoTheStoreResumesAndWritesMetadataLast) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  use_test_server_in_process(endpoint);
  fs::path src = shared / "testdata" / "flink-repo" / kSource;
  const std::string dest = unique_prefix("fsp-test-a", "resume") + "/chk-1";
  auto interrupted_at = [](size_t k) {
    return [k](size_t i, const CopyFile&) -> Status {
      if (i == k) return Error::io("interrupted (test)");
      return {};
    };
  };
  for (size_t k : {size_t{0}, size_t{30}, size_t{81}}) {
    auto sf = open_snapshot(src.string());
    ASSERT_TRUE(sf.ok());
    CopyOptions o;
    o.dest = dest;
    o.before_copy = interrupted_at(k);
    auto r = copy_snapshot(*sf, o);
    ASSERT_FALSE(r.ok());
    auto objects = objects_below(dest);
    EXPECT_EQ(objects.count("_metadata"), 0u) << k;
    EXPECT_EQ(objects.size(), k) << k;
  }
  // A wrong-sized object (as if another tool was stopped half way) is copied again, not skipped.
  auto objects = objects_below(dest);
  ASSERT_EQ(objects.size(), 81u);
  const std::string victim = objects.begin()->second.uri;
  put(victim, "short", /*overwrite=*/true);
  auto sf = open_snapshot(src.string());
  ASSERT_TRUE(sf.ok());
  CopyOptions o;
  o.dest = dest;
  auto r = copy_snapshot(*sf, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->skipped, 80u);
  EXPECT_EQ(r->copied, 2u);
  EXPECT_TRUE(r->metadata_written);
  EXPECT_EQ(objects_below(dest).size(), 83u);
  EXPECT_EQ(inspect_states(store_env(endpoint), dest), inspect_states("", src.string()));
  auto sf3 = open_snapshot(src.string());
  ASSERT_TRUE(sf3.ok());
  auto again = copy_snapshot(*sf3, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->skipped, 82u);
  EXPECT_TRUE(again->metadata_unchanged);

  // The same for a server-side copy inside the store, interrupted after 10 files.
  const std::string moved = unique_prefix("fsp-test-b", "resume") + "/moved";
  {
    auto s3 = open_snapshot(dest);
    ASSERT_TRUE(s3.ok());
    CopyOptions m;
    m.dest = moved;
    m.before_copy = interrupted_at(10);
    ASSERT_FALSE(copy_snapshot(*s3, m).ok());
    EXPECT_EQ(objects_below(moved).size(), 10u);
    EXPECT_EQ(objects_below(moved).count("_metadata"), 0u);
  }
  auto s3 = open_snapshot(dest);
  ASSERT_TRUE(s3.ok());
  CopyOptions m;
  m.dest = moved;
  auto done = copy_snapshot(*s3, m);
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  EXPECT_EQ(done->skipped, 10u);
  EXPECT_EQ(done->server_side, 72u);
  EXPECT_TRUE(done->metadata_written);
  expect_all_files_present(moved);
}

TEST(CopyStore, KilledCliCopiesIntoAndInsideTheStoreCompleteWhenRunAgain) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  use_test_server_in_process(endpoint);
  const std::string env = store_env(endpoint);
  fs::path src = shared / "testdata" / "flink-repo" / kSource;
  const nlohmann::json expected = inspect_states("", src.string());
  const std::string base = unique_prefix("fsp-test-a", "killed");
  int interrupted = 0;
  // SIGKILL after 50 ms .. 1.2 s (a whole copy takes about a second here), then the same command to the end.
  const std::vector<std::pair<std::string, std::string>> runs = {
      {src.string(), base + "/a"}, {src.string(), base + "/b"}, {src.string(), base + "/c"}, {base + "/a", base + "/moved"}};
  const char* kill_after[] = {"0.05", "0.4", "1.2", "0.3"};
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& [from, to] = runs[i];
    test::run_command(env + "timeout -s KILL " + kill_after[i] + " " + test::cli_path() + " copy " + from + " " + to +
                      " >/dev/null 2>&1");
    auto objects = objects_below(to);
    if (objects.count("_metadata")) {
      EXPECT_EQ(objects.size(), 83u) << to;  // finished before the kill: complete
    } else {
      EXPECT_LE(objects.size(), 82u) << to;
      ++interrupted;
    }
    auto r = run_json(env + test::cli_path() + " copy --json " + from + " " + to);
    EXPECT_EQ(r.summary["metadata_written"].get<bool>() || r.summary["already_complete"].get<bool>(), true) << to;
    EXPECT_EQ(r.summary["copied"].get<uint64_t>() + r.summary["skipped"].get<uint64_t>(), 82u) << to;
    EXPECT_EQ(objects_below(to).size(), 83u) << to;
    EXPECT_EQ(inspect_states(env, to), expected) << to;
  }
  std::cout << interrupted << " of " << runs.size() << " killed copies stopped before _metadata\n";
  EXPECT_GE(interrupted, 1);  // the 50 ms kill at least stops a copy half way
}

TEST(CopyStore, ArchivesToAndFromTheStore) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  use_test_server_in_process(endpoint);
  const std::string env = store_env(endpoint);
  fs::path src = shared / "testdata" / "flink-repo" / kSource;
  const nlohmann::json expected = inspect_states("", src.string());
  const std::string base = unique_prefix("fsp-test-a", "archive");
  // local snapshot -> archive in the store -> unpacked into another bucket.
  auto w = run_json(env + test::cli_path() + " copy --json " + src.string() + " " + base + "/chk-1.tar.zst");
  EXPECT_EQ(w.files.size(), 82u);
  auto st = store_for(base).stat(base + "/chk-1.tar.zst");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_GT(st->size, 1000u);
  const std::string unpacked = unique_prefix("fsp-test-b", "archive") + "/chk-1";
  auto u = run_json(env + test::cli_path() + " copy --json " + base + "/chk-1.tar.zst " + unpacked);
  EXPECT_EQ(u.summary["copied"], 82);
  EXPECT_EQ(u.summary["metadata_written"], true);
  EXPECT_EQ(objects_below(unpacked).size(), 83u);
  EXPECT_EQ(inspect_states(env, unpacked), expected);
  // A snapshot in the store -> a local archive -> unpacked locally.
  TempDir t;
  fs::path archive = t.path / "from-store.tar.zst";
  auto w2 = run_json(env + test::cli_path() + " copy --json " + unpacked + " " + archive.string());
  EXPECT_EQ(w2.files.size(), 82u);
  auto listing = test::run_command("tar --zstd -tf " + archive.string());
  ASSERT_EQ(listing.exit_code, 0);
  EXPECT_EQ(listing.out.substr(listing.out.size() - std::string("_metadata\n").size()), "_metadata\n");  // last
  fs::path local = t.path / "local";
  auto u2 = run_json(test::cli_path() + " copy --json " + archive.string() + " " + local.string());
  EXPECT_EQ(u2.summary["copied"], 82);
  EXPECT_EQ(inspect_states("", local.string()), expected);
}

// The job directory of job_dir_builder.h in the store: every file uploaded
// below `prefix` with its absolute file: paths rewritten to the prefix; the
// fresh files (shared/fresh-upload, chk-4/new-part) uploaded last, after
// `fresh_after` (object ages cannot be set: they are the upload times).
struct StoreJob {
  std::string base, job, keep;
  std::set<std::string> orphans, must_stay, all;
};

void upload_job(const JobDir& j, const std::string& prefix, std::chrono::milliseconds fresh_after, StoreJob& out) {
  out.base = prefix;
  out.job = prefix + "/job-1";
  out.keep = prefix + "/savepoint-x";
  const std::string local_job = j.job.string(), local_root = j.tmp.path.string();
  auto to_store = [&](const std::string& local) { return prefix + local.substr(local_root.size()); };
  for (const auto& p : j.orphans) out.orphans.insert(to_store(p));
  for (const auto& p : j.must_stay) out.must_stay.insert(to_store(p));
  const std::set<std::string> fresh = {(j.job / "shared" / "fresh-upload").string(), (j.job / "chk-4" / "new-part").string()};
  auto upload = [&](const fs::path& p) {
    std::string bytes = test::read_file(p);
    if (p.filename() == "_metadata") {
      auto sf = open_snapshot(p.string());
      ASSERT_TRUE(sf.ok()) << sf.error().to_string();
      RelocateOptions ro;
      ro.rules.emplace_back("file:" + local_root, prefix);
      ro.collect_changes = false;
      auto rr = relocate(sf->snapshot, ro);
      ASSERT_TRUE(rr.ok()) << rr.error().to_string();
      auto enc = encode_metadata(sf->snapshot);
      ASSERT_TRUE(enc.ok());
      bytes = *enc;
    }
    put(to_store(p.string()), bytes);
    out.all.insert(to_store(p.string()));
  };
  for (const fs::path& d : {j.job, j.keep_dir})
    for (const auto& e : fs::recursive_directory_iterator(d))
      if (e.is_regular_file() && !fresh.count(e.path().string())) upload(e.path());
  std::this_thread::sleep_for(fresh_after);
  for (const auto& p : fresh) upload(p);
}

TEST(GcStore, ListsAndDeletesExactlyThePlantedOrphansOfAJobDirectoryInTheStore) {
  FSP_REQUIRE_SHARED(shared);
  FSP_REQUIRE_S3(endpoint);
  use_test_server_in_process(endpoint);
  const std::string env = store_env(endpoint);
  JobDir j;
  test::build_job(j, shared);
  if (HasFatalFailure()) return;
  // Ages on the store are upload times: --min-age 10s, the fresh files uploaded 11 s after the rest.
  StoreJob s;
  upload_job(j, unique_prefix("fsp-test-a", "gc"), std::chrono::milliseconds(11000), s);
  if (HasFatalFailure()) return;
  ASSERT_EQ(s.orphans.size(), 6u);
  const std::string gc = env + test::cli_path() + " gc --json --min-age 10s " + s.job + " --keep " + s.keep;

  auto listed = run_json(gc);
  std::set<std::string> orphans;
  for (const auto& f : listed.files) {
    EXPECT_EQ(f["type"], "orphan");
    orphans.insert(f["uri"].get<std::string>());
  }
  EXPECT_EQ(orphans, s.orphans);
  EXPECT_EQ(listed.summary["checkpoints"].size(), 2u);
  EXPECT_EQ(listed.summary["kept_young"], 1);      // shared/fresh-upload
  EXPECT_EQ(listed.summary["kept_in_flight"], 2);  // chk-4: one old, one fresh file
  EXPECT_EQ(listed.summary["missing_referenced"], 0);
  EXPECT_GE(listed.summary["referenced"].get<int>(), 40);
  // Without --keep, the file only the savepoint references is listed too.
  auto without_keep = run_json(env + test::cli_path() + " gc --json --min-age 10s " + s.job);
  EXPECT_EQ(without_keep.files.size(), s.orphans.size() + 1);

  // --delete, the log written into the store too.
  const std::string log = s.base + "/gc.log";
  auto del = run_json(gc + " --delete --log " + log);
  std::set<std::string> deleted;
  for (const auto& f : del.files)
    if (f["type"] == "deleted") deleted.insert(f["uri"].get<std::string>());
  EXPECT_EQ(deleted, s.orphans);
  EXPECT_EQ(del.summary["skipped"], 0);
  EXPECT_EQ(del.summary["failed"], 0);
  std::set<std::string> left, gone;
  for (const auto& [name, info] : objects_below(s.job)) left.insert(info.uri);
  for (const auto& [name, info] : objects_below(s.keep)) left.insert(info.uri);
  std::set_difference(s.all.begin(), s.all.end(), left.begin(), left.end(), std::inserter(gone, gone.end()));
  EXPECT_EQ(gone, s.orphans);  // exactly those
  for (const auto& u : s.must_stay) EXPECT_TRUE(left.count(u)) << u;
  auto logged = io::read_file(log);
  ASSERT_TRUE(logged.ok()) << logged.error().to_string();
  std::set<std::string> in_log;
  std::istringstream ls{std::string((*logged)->bytes())};
  for (std::string line; std::getline(ls, line);) in_log.insert(line);
  EXPECT_EQ(in_log, s.orphans);
  // Every remaining checkpoint decodes with all its files present.
  for (const std::string& snap : {s.job + "/chk-1", s.job + "/chk-2", s.keep}) expect_all_files_present(snap);
  auto again = run_json(gc);
  EXPECT_TRUE(again.files.empty());
}

}  // namespace
}  // namespace fsp
