// gc: a job checkpoint directory built from a real incremental RocksDB
// checkpoint of ../shared (several chk-N sharing shared/ files, a file-merging
// physical file, a --keep snapshot elsewhere) plus planted orphans of every
// kind; gc lists exactly those, --delete removes exactly those, and every
// remaining checkpoint still decodes with all its files present.
#include "flink_savepoint/gc.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "flink_savepoint/metadata.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/walk.h"
#include "job_dir_builder.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::JobDir;
using test::TempDir;
using test::build_job;
using test::make_old;
using test::write_file;

std::set<std::string> uris(const std::vector<GcFile>& v) {
  std::set<std::string> out;
  for (const auto& g : v) out.insert(g.uri);
  return out;
}

void expect_checkpoints_intact(const JobDir& j) {
  for (const char* chk : {"chk-1", "chk-2"}) {
    auto sf = open_snapshot((j.job / chk).string());
    ASSERT_TRUE(sf.ok()) << sf.error().to_string();
    VerifyReport v = verify_files(sf->snapshot, sf->directory, {});
    EXPECT_GT(v.checked, 20u) << chk;
    EXPECT_TRUE(v.missing.empty()) << chk << ": " << (v.missing.empty() ? "" : v.missing[0].path);
  }
  auto keep = open_snapshot(j.keep_dir.string());
  ASSERT_TRUE(keep.ok());
  EXPECT_TRUE(verify_files(keep->snapshot, keep->directory, {}).missing.empty());
}

TEST(Gc, ListsExactlyThePlantedOrphansOfARealJobDirectory) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  build_job(j, shared);
  if (HasFatalFailure()) return;

  GcOptions o;
  o.job_dir = j.job.string();
  o.keep = {j.keep_dir.string()};
  auto r = find_orphans(o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(uris(r->orphans), j.orphans);
  EXPECT_EQ(r->checkpoints.size(), 2u);
  ASSERT_EQ(r->in_flight.size(), 1u);
  EXPECT_EQ(r->in_flight[0], (j.job / "chk-4").string());
  EXPECT_EQ(r->kept_in_flight, 2u);
  EXPECT_EQ(r->kept_young, 1u);  // shared/fresh-upload
  EXPECT_EQ(r->missing_referenced, 0u);
  uint64_t bytes = 0;
  for (const auto& g : r->orphans) {
    bytes += g.size;
    EXPECT_EQ(g.size, fs::file_size(g.uri)) << g.uri;
    EXPECT_GE(g.age_ms, 3 * 3600 * 1000 - 60000) << g.uri;
  }
  EXPECT_EQ(r->orphan_bytes, bytes);
  std::map<std::string, std::string> reason;
  for (const auto& g : r->orphans) reason[fs::path(g.uri).filename().string()] = g.reason;
  EXPECT_EQ(reason["0a0b-orphan-after-failed-checkpoint"], "unreferenced shared file");
  EXPECT_EQ(reason["merged-2"], "unreferenced shared file");
  EXPECT_EQ(reason["file-1"], "unreferenced task-owned file");
  EXPECT_EQ(reason["leftover-exclusive-file"], "not referenced by chk-1/_metadata");
  EXPECT_EQ(reason["aborted-1"], "aborted checkpoint chk-3 (no _metadata)");
  // Shared SSTs are referenced by both checkpoints; merged-1 through one segment of it.
  size_t shared_files = 0;
  for (const auto& e : fs::directory_iterator(j.job / "shared")) shared_files += e.is_regular_file();
  EXPECT_GE(shared_files, 10u);
  EXPECT_EQ(r->files_seen, r->referenced + r->orphans.size() + r->kept_young + r->kept_in_flight);

  // Without --keep the file only the savepoint references is an orphan too.
  o.keep.clear();
  auto r2 = find_orphans(o);
  ASSERT_TRUE(r2.ok());
  std::set<std::string> with_keep_file = j.orphans;
  with_keep_file.insert(j.keep_only.string());
  EXPECT_EQ(uris(r2->orphans), with_keep_file);

  // A shorter --min-age lists chk-4 and the fresh file? No: they are seconds old.
  o.keep = {j.keep_dir.string()};
  o.min_age_ms = 60 * 1000;
  auto r3 = find_orphans(o);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(uris(r3->orphans), j.orphans);
  // --min-age 0 lists them.
  o.min_age_ms = 0;
  auto r4 = find_orphans(o);
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->orphans.size(), j.orphans.size() + 3);
}

TEST(Gc, DeleteRemovesExactlyTheOrphansAndEveryCheckpointStillDecodes) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  build_job(j, shared);
  if (HasFatalFailure()) return;
  std::set<std::string> before;
  for (const auto& e : fs::recursive_directory_iterator(j.job))
    if (e.is_regular_file()) before.insert(e.path().string());

  fs::path log = j.tmp.path / "deleted.log";
  auto cmd = test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string() + " --delete --log " +
             log.string() + " --json";
  auto res = test::run_command(cmd);
  ASSERT_EQ(res.exit_code, 0) << res.out;
  std::set<std::string> deleted_json;
  nlohmann::json summary;
  std::istringstream lines(res.out);
  for (std::string line; std::getline(lines, line);) {
    auto jl = nlohmann::json::parse(line);
    if (jl["type"] == "deleted") deleted_json.insert(jl["uri"].get<std::string>());
    if (jl["type"] == "summary") summary = jl;
  }
  EXPECT_EQ(deleted_json, j.orphans);
  EXPECT_EQ(summary["deleted"], j.orphans.size());
  EXPECT_EQ(summary["skipped"], 0);

  std::set<std::string> after;
  for (const auto& e : fs::recursive_directory_iterator(j.job))
    if (e.is_regular_file()) after.insert(e.path().string());
  std::set<std::string> gone;
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(), std::inserter(gone, gone.end()));
  EXPECT_EQ(gone, j.orphans);
  for (const auto& p : j.must_stay) EXPECT_TRUE(fs::exists(p)) << p;

  // The log names every deleted URI, one per line.
  std::set<std::string> logged;
  std::istringstream ls(test::read_file(log));
  for (std::string line; std::getline(ls, line);) logged.insert(line);
  EXPECT_EQ(logged, j.orphans);
  expect_checkpoints_intact(j);

  // A second run finds nothing more.
  GcOptions o;
  o.job_dir = j.job.string();
  o.keep = {j.keep_dir.string()};
  auto again = find_orphans(o);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->orphans.empty());
}

TEST(Gc, DeleteSkipsWhatTheSecondPassDoesNotAgreeOn) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  build_job(j, shared);
  if (HasFatalFailure()) return;
  GcOptions o;
  o.job_dir = j.job.string();
  o.keep = {j.keep_dir.string()};
  auto first = find_orphans(o);
  ASSERT_TRUE(first.ok());
  // Between the passes: a new checkpoint chk-5 completes and references a file the first pass listed,
  // and an orphan is rewritten (new size, new time).
  fs::path revived = j.job / "shared" / "0a0b-orphan-after-failed-checkpoint";
  {
    auto sf = open_snapshot(j.keep_dir.string());
    ASSERT_TRUE(sf.ok());
    Snapshot& s = sf->snapshot;
    bool done = false;
    for_each_stream_handle(s, [&](StreamHandle& h, const HandleLocation&) {
      if (done || h.code != code::kFile) return;
      h.path = s.store("file:" + revived.string());
      h.state_size = static_cast<int64_t>(fs::file_size(revived));
      done = true;
    });
    auto bytes = encode_metadata(s);
    ASSERT_TRUE(bytes.ok());
    // chk-5 keeps its relative files in the savepoint directory's names: copy them along.
    fs::create_directories(j.job / "chk-5");
    for (const auto& e : fs::directory_iterator(j.keep_dir))
      if (e.path().filename() != "_metadata") fs::copy_file(e.path(), j.job / "chk-5" / e.path().filename());
    write_file(j.job / "chk-5" / "_metadata", *bytes);
  }
  fs::path rewritten = j.job / "taskowned" / "tm-1" / "file-1";
  write_file(rewritten, "rewritten, longer than before");
  make_old(rewritten, std::chrono::hours(2));

  fs::path log = j.tmp.path / "deleted.log";
  auto del = delete_orphans(o, *first, log.string());
  ASSERT_TRUE(del.ok()) << del.error().to_string();
  EXPECT_FALSE(del->log_error.has_value());
  std::set<std::string> expect = j.orphans;
  expect.erase(revived.string());
  expect.erase(rewritten.string());
  EXPECT_EQ(uris(del->deleted), expect);
  EXPECT_EQ(uris(del->skipped), (std::set<std::string>{revived.string(), rewritten.string()}));
  EXPECT_TRUE(fs::exists(revived));
  EXPECT_TRUE(fs::exists(rewritten));
  expect_checkpoints_intact(j);
}

TEST(Gc, RefusesWhatItCannotJudge) {
  TempDir t;
  GcOptions o;
  // Not a job directory (e.g. the checkpoint root of many jobs).
  fs::create_directories(t.path / "root" / "job-a" / "chk-1");
  o.job_dir = (t.path / "root").string();
  EXPECT_TRUE(test::is_error(find_orphans(o), ErrorKind::kUsage, {"not a job checkpoint directory"}));
  // No complete checkpoint: every file would be listed.
  o.job_dir = (t.path / "root" / "job-a").string();
  write_file(t.path / "root" / "job-a" / "shared" / "x", "x");
  EXPECT_TRUE(test::is_error(find_orphans(o), ErrorKind::kUsage, {"no complete checkpoint"}));
  // A _metadata that does not decode: nothing is listed.
  write_file(t.path / "root" / "job-a" / "chk-1" / "_metadata", "not a checkpoint");
  EXPECT_TRUE(test::is_error(find_orphans(o), ErrorKind::kData, {"cannot tell which files are live"}));
  // A missing directory.
  o.job_dir = (t.path / "nope").string();
  EXPECT_TRUE(test::is_error(find_orphans(o), ErrorKind::kNoInput, {"nope"}));
}

TEST(Gc, CliListsOrphansAsJsonLinesAndDeletesNothingByDefault) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  build_job(j, shared);
  if (HasFatalFailure()) return;
  auto res = test::run_command(test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string() + " --json");
  ASSERT_EQ(res.exit_code, 0) << res.out;
  std::set<std::string> listed;
  std::istringstream lines(res.out);
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    auto jl = nlohmann::json::parse(line);
    if (jl["type"] == "orphan") {
      listed.insert(jl["uri"].get<std::string>());
      EXPECT_GE(jl["age_s"].get<int64_t>(), 3 * 3600 - 60);
    }
  }
  EXPECT_EQ(listed, j.orphans);
  EXPECT_EQ(n, j.orphans.size() + 1);
  for (const auto& p : j.orphans) EXPECT_TRUE(fs::exists(p)) << p;
  auto text = test::run_command(test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string() +
                                " --min-age 2h");
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find(std::to_string(j.orphans.size()) + " orphaned file(s)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("aborted checkpoint chk-3 (no _metadata)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("nothing deleted"), std::string::npos);
  // --min-age 4h: the planted files are 3 h old, so none is listed.
  auto older = test::run_command(test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string() +
                                 " --min-age 4h --json");
  ASSERT_EQ(older.exit_code, 0);
  EXPECT_EQ(older.out.find("\"orphan\""), std::string::npos) << older.out;
}

TEST(Gc, FileNamesWithControlBytesOrInvalidUtf8AreShownEscaped) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  build_job(j, shared);
  if (HasFatalFailure()) return;
  fs::path odd = j.job / "shared" / "evil\nname\xff";
  write_file(odd, "x");
  make_old(odd);
  auto text = test::run_command(test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string());
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("evil\\nname\\xFF"), std::string::npos) << text.out;
  auto json = test::run_command(test::cli_path() + " gc " + j.job.string() + " --keep " + j.keep_dir.string() + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  std::istringstream lines(json.out);
  size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) EXPECT_FALSE(nlohmann::json::parse(line, nullptr, false).is_discarded()) << line;
  EXPECT_EQ(n, j.orphans.size() + 2);
}

}  // namespace
}  // namespace fsp
