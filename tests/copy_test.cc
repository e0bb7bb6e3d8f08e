// copy: every real snapshot of ../shared whose files are all present copies
// to a destination where `inspect --states --json` says the same except for
// paths; exactly the referenced files are copied (not the other files of
// shared/); an interrupted copy resumes; missing or wrong-sized sources copy
// nothing.
#include "flink_savepoint/copy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
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

// Replaces every occurrence of the snapshot directory (as a path and as a
// file: URI) by "<DIR>", in every string of a JSON document.
void normalise(nlohmann::json& j, const std::vector<std::string>& dirs) {
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    for (const auto& d : dirs)
      for (size_t at; (at = s.find(d)) != std::string::npos;) s.replace(at, d.size(), "<DIR>");
    j = s;
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) normalise(v, dirs);
  }
}

nlohmann::json inspect_states(const std::string& dir) {
  auto r = test::run_command(test::cli_path() + " inspect --states --json '" + dir + "' 2>/dev/null");
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  j["exit_code"] = r.exit_code;
  std::string d = fs::canonical(dir).string();
  normalise(j, {"file:" + d, d, dir});
  return j;
}

bool all_files_present(const SnapshotFile& sf) {
  VerifyReport v = verify_files(sf.snapshot, sf.directory, {});
  return v.missing.empty() && v.not_checked == 0;
}

// A temporary file of the seam's writer that a killed run left (".<name>.tmp-XXXXXX").
bool is_temporary(const std::string& name) {
  return name.size() > 12 && name[0] == '.' && name.compare(name.size() - 11, 5, ".tmp-") == 0;
}

// The files below d, without the temporaries of killed runs.
std::set<std::string> files_below(const fs::path& d) {
  std::set<std::string> out;
  if (!fs::exists(d)) return out;
  for (const auto& e : fs::recursive_directory_iterator(d))
    if (e.is_regular_file() && !is_temporary(e.path().filename().string())) out.insert(fs::relative(e.path(), d).string());
  return out;
}

TEST(Copy, EveryRealSnapshotWithItsFilesCopiesToTheSameStates) {
  FSP_REQUIRE_SHARED(shared);
  TempDir t;
  size_t copied = 0, skipped = 0, files = 0;
  std::vector<fs::path> inputs;
  for (const auto& row : test::manifest()) inputs.push_back(shared / "testdata" / "flink-repo" / row.path);
  for (const char* v : {"v3", "v4", "v5", "v6"}) inputs.push_back(shared / "testdata" / "flink-written" / v / "_metadata");
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto sf = open_snapshot(inputs[i].string());
    if (!sf.ok() || !all_files_present(*sf)) {
      ++skipped;
      continue;
    }
    std::string src_dir = sf->directory;
    fs::path dest = t.path / std::to_string(i);
    CopyOptions o;
    o.dest = dest.string();
    auto r = copy_snapshot(*sf, o);
    ASSERT_TRUE(r.ok()) << inputs[i] << ": " << r.error().to_string();
    EXPECT_TRUE(r->metadata_written);
    EXPECT_EQ(r->copied, r->files.size());
    files += r->files.size();
    // Exactly the referenced files and _metadata.
    std::set<std::string> expect{"_metadata"};
    for (const auto& f : r->files) expect.insert(fs::relative(f.to, dest).string());
    EXPECT_EQ(files_below(dest), expect) << inputs[i];
    EXPECT_EQ(inspect_states(src_dir), inspect_states(dest.string())) << inputs[i];
    ++copied;
    fs::remove_all(dest);
  }
  // 490 files of Flink's test resources; the flink-written ones point to files that do not exist.
  EXPECT_GE(copied, 400u) << skipped << " skipped";
  EXPECT_GE(files, 3000u);
  std::cout << "copied " << copied << " snapshots (" << files << " files), " << skipped << " skipped\n";
}

TEST(Copy, ACheckpointWithSharedFilesCopiesOnlyItsOwnFilesAndBecomesSelfContained) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  test::build_job(j, shared);
  if (HasFatalFailure()) return;
  auto sf = open_snapshot((j.job / "chk-2").string());
  ASSERT_TRUE(sf.ok());
  Snapshot before = std::move(sf->snapshot);
  sf = open_snapshot((j.job / "chk-2").string());
  fs::path dest = j.tmp.path / "moved" / "chk-2";
  CopyOptions o;
  o.dest = dest.string();
  auto r = copy_snapshot(*sf, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  // Not the orphans of shared/, not chk-1's files, not merged-2.
  std::set<std::string> got = files_below(dest);
  EXPECT_EQ(got.count("0a0b-orphan-after-failed-checkpoint"), 0u);
  EXPECT_EQ(got.count("merged-2"), 0u);
  EXPECT_EQ(got.count("merged-1"), 1u);
  EXPECT_EQ(got.size(), r->files.size() + 1);
  size_t absolute_before = 0;
  for_each_stream_handle(before, [&](const StreamHandle& h, const HandleLocation&) { absolute_before += h.code == code::kFile; });
  EXPECT_GE(absolute_before, 8u);
  EXPECT_EQ(r->made_relative, absolute_before);  // every shared SST is relative now
  auto out = open_snapshot(dest.string());
  ASSERT_TRUE(out.ok());
  size_t absolute = 0, segments = 0;
  for_each_stream_handle(out->snapshot, [&](const StreamHandle& h, const HandleLocation&) {
    absolute += h.code == code::kFile;
    if (h.code == code::kSegmentFile) {
      ++segments;
      EXPECT_EQ(std::string(h.path), "file:" + fs::canonical(dest).string() + "/merged-1");  // segments stay absolute
    }
  });
  EXPECT_EQ(absolute, 0u);
  EXPECT_EQ(segments, 1u);
  EXPECT_TRUE(verify_files(out->snapshot, out->directory, {}).missing.empty());
  // The source is untouched and the states read the same.
  auto again = open_snapshot((j.job / "chk-2").string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(compare_snapshots(before, again->snapshot), "");
  auto a = inspect_states((j.job / "chk-2").string()), b = inspect_states(dest.string());
  EXPECT_EQ(a["operators"].size(), b["operators"].size());
}

TEST(Copy, AnInterruptedCopyResumesAndNeverLeavesAMetadata) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / "testdata" / "flink-repo" / test::kSource;
  TempDir t;
  fs::path dest = t.path / "dest";
  size_t n = 0;
  {
    auto sf = open_snapshot(src.string());
    ASSERT_TRUE(sf.ok());
    CopyOptions o;
    o.dest = dest.string();
    o.dry_run = true;
    auto plan = copy_snapshot(*sf, o);
    ASSERT_TRUE(plan.ok());
    n = plan->files.size();
    EXPECT_EQ(n, 82u);
    EXPECT_FALSE(fs::exists(dest));
  }
  // Interrupted before file k, for several k; each rerun goes on where the last one stopped.
  size_t done = 0;
  for (size_t k : {size_t{0}, size_t{1}, size_t{17}, size_t{40}, n - 1}) {
    auto sf = open_snapshot(src.string());
    ASSERT_TRUE(sf.ok());
    CopyOptions o;
    o.dest = dest.string();
    o.before_copy = [k](size_t i, const CopyFile&) -> Status {
      if (i == k) return Error::io("interrupted (test)");
      return {};
    };
    auto r = copy_snapshot(*sf, o);
    ASSERT_FALSE(r.ok());
    EXPECT_FALSE(fs::exists(dest / "_metadata")) << k;
    EXPECT_EQ(files_below(dest).size(), k) << k;
    done = k;
  }
  // A partial file (a kill in the middle of one) is copied again, not skipped.
  std::string victim;
  for (const auto& e : fs::directory_iterator(dest))
    if (fs::file_size(e.path()) > 100) {
      victim = e.path().string();
      break;
    }
  ASSERT_FALSE(victim.empty());
  fs::resize_file(victim, 10);
  auto sf = open_snapshot(src.string());
  ASSERT_TRUE(sf.ok());
  CopyOptions o;
  o.dest = dest.string();
  auto r = copy_snapshot(*sf, o);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->skipped, done - 1);
  EXPECT_EQ(r->copied, n - done + 1);
  EXPECT_TRUE(r->metadata_written);
  EXPECT_EQ(fs::file_size(victim), fs::file_size(src / fs::path(victim).filename()));
  EXPECT_EQ(inspect_states(src.string()), inspect_states(dest.string()));
  // Once more: everything is there, _metadata is this copy's.
  auto sf2 = open_snapshot(src.string());
  auto r2 = copy_snapshot(*sf2, o);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->skipped, n);
  EXPECT_TRUE(r2->metadata_unchanged);
}

TEST(Copy, KilledAtRandomPointsTheCliRunAgainCompletes) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / "testdata" / "flink-repo" / test::kSource;
  TempDir t;
  std::mt19937 rng(17);
  for (int round = 0; round < 4; ++round) {
    fs::path dest = t.path / ("d" + std::to_string(round));
    // Killed (SIGKILL) after a random few milliseconds, then run again to the end.
    int ms = static_cast<int>(rng() % 40);
    test::run_command("timeout -s KILL 0." + std::string(ms < 10 ? "00" : "0") + std::to_string(ms) + " " + test::cli_path() +
                      " copy " + src.string() + " " + dest.string() + " >/dev/null 2>&1");
    if (fs::exists(dest / "_metadata")) {
      // Finished before the kill: then it is complete.
      EXPECT_EQ(files_below(dest).size(), 83u);
    }
    auto r = test::run_command(test::cli_path() + " copy " + src.string() + " " + dest.string() + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(files_below(dest).size(), 83u);
    EXPECT_EQ(inspect_states(src.string()), inspect_states(dest.string()));
  }
}

TEST(Copy, MissingOrWrongSizedSourcesCopyNothing) {
  FSP_REQUIRE_SHARED(shared);
  fs::path real = shared / "testdata" / "flink-repo" / test::kSource;
  TempDir t;
  fs::path src = t.path / "src";
  fs::copy(real, src);
  auto names = files_below(src);
  std::string gone = *std::next(names.begin(), 3);
  ASSERT_NE(gone, "_metadata");
  fs::remove(src / gone);
  fs::path dest = t.path / "dest";
  auto sf = open_snapshot(src.string());
  ASSERT_TRUE(sf.ok());
  CopyOptions o;
  o.dest = dest.string();
  EXPECT_TRUE(test::is_error(copy_snapshot(*sf, o), ErrorKind::kNoInput, {"nothing copied", gone}));
  EXPECT_FALSE(fs::exists(dest));
  fs::copy_file(real / gone, src / gone);
  fs::resize_file(src / gone, fs::file_size(real / gone) + 1);
  sf = open_snapshot(src.string());
  EXPECT_TRUE(test::is_error(copy_snapshot(*sf, o), ErrorKind::kNoInput,
                             {"nothing copied", gone, std::to_string(fs::file_size(real / gone))}));
  EXPECT_FALSE(fs::exists(dest));
  // Onto its own directory, and onto another snapshot's _metadata: refused.
  fs::resize_file(src / gone, fs::file_size(real / gone));
  o.dest = src.string();
  sf = open_snapshot(src.string());
  EXPECT_TRUE(test::is_error(copy_snapshot(*sf, o), ErrorKind::kUsage, {"own directory"}));
  fs::create_directories(dest);
  test::write_file(dest / "_metadata", "another snapshot");
  o.dest = dest.string();
  sf = open_snapshot(src.string());
  EXPECT_TRUE(test::is_error(copy_snapshot(*sf, o), ErrorKind::kCantCreate, {"another snapshot", "--force"}));
  EXPECT_EQ(test::read_file(dest / "_metadata"), "another snapshot");
}

TEST(Copy, CliListAndDryRun) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / "testdata" / "flink-repo" / test::kSource;
  TempDir t;
  fs::path dest = t.path / "dest";
  auto list = test::run_command(test::cli_path() + " copy " + src.string() + " " + dest.string() + " --list");
  ASSERT_EQ(list.exit_code, 0);
  std::istringstream in(list.out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 83u);
  EXPECT_EQ(lines.back(), (src / "_metadata").string());
  for (const auto& l : lines) EXPECT_TRUE(fs::is_regular_file(l)) << l;
  auto dry = test::run_command(test::cli_path() + " copy " + src.string() + " " + dest.string() + " --dry-run");
  ASSERT_EQ(dry.exit_code, 0);
  EXPECT_NE(dry.out.find("82 file(s)"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("nothing written"), std::string::npos);
  EXPECT_FALSE(fs::exists(dest));
}

// --- archives (.tar.zst) ---------------------------------------------------------

TEST(CopyArchive, ASnapshotWithSharedFilesAndASegmentRoundTripsThroughTarZst) {
  FSP_REQUIRE_SHARED(shared);
  JobDir j;
  test::build_job(j, shared);
  if (HasFatalFailure()) return;
  fs::path archive = j.tmp.path / "chk-2.tar.zst";
  auto sf = open_snapshot((j.job / "chk-2").string());
  ASSERT_TRUE(sf.ok());
  CopyOptions o;
  auto w = copy_to_archive(*sf, archive.string(), o);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  EXPECT_GE(w->files.size(), 30u);
  EXPECT_TRUE(fs::exists(archive));
  // tar itself reads it: the referenced files, then _metadata last.
  auto listing = test::run_command("tar --zstd -tf " + archive.string());
  ASSERT_EQ(listing.exit_code, 0);
  std::istringstream in(listing.out);
  std::vector<std::string> names;
  for (std::string l; std::getline(in, l);) names.push_back(l);
  ASSERT_EQ(names.size(), w->files.size() + 1);
  EXPECT_EQ(names.back(), "_metadata");
  EXPECT_EQ(std::count(names.begin(), names.end(), "merged-1"), 1);
  EXPECT_EQ(std::count(names.begin(), names.end(), "merged-2"), 0);  // not referenced

  fs::path dest = j.tmp.path / "unpacked";
  CopyOptions u;
  u.dest = dest.string();
  auto r = copy_from_archive(archive.string(), u);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->metadata_written);
  EXPECT_EQ(r->copied, w->files.size());
  auto out = open_snapshot(dest.string());
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(verify_files(out->snapshot, out->directory, {}).missing.empty());
  size_t segments = 0;
  for_each_stream_handle(out->snapshot, [&](const StreamHandle& h, const HandleLocation&) {
    EXPECT_NE(h.code, code::kFile);
    if (h.code == code::kSegmentFile) {
      ++segments;
      EXPECT_EQ(std::string(h.path), "file:" + fs::canonical(dest).string() + "/merged-1");
    }
  });
  EXPECT_EQ(segments, 1u);
  // Unpacking again: everything is there already.
  auto again = copy_from_archive(archive.string(), u);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->skipped, w->files.size());
  EXPECT_TRUE(again->metadata_unchanged);
}

TEST(CopyArchive, TheRocksDbSnapshotsOfOneFamilyReadTheSameAfterArchiveAndUnpack) {
  FSP_REQUIRE_SHARED(shared);
  TempDir t;
  size_t n = 0;
  for (const auto& row : test::rows_matching("new-stateful-udf-migration-itcase")) {
    if (row.path.find("rocksdb") == std::string::npos) continue;  // the incremental RocksDB ones: many files each
    fs::path src = shared / "testdata" / "flink-repo" / row.path;
    auto sf = open_snapshot(src.string());
    ASSERT_TRUE(sf.ok());
    std::string dir = sf->directory;
    fs::path archive = t.path / (std::to_string(n) + ".tar.zst");
    auto w = copy_to_archive(*sf, archive.string(), {});
    ASSERT_TRUE(w.ok()) << src << ": " << w.error().to_string();
    fs::path dest = t.path / std::to_string(n);
    CopyOptions u;
    u.dest = dest.string();
    auto r = copy_from_archive(archive.string(), u);
    ASSERT_TRUE(r.ok()) << src << ": " << r.error().to_string();
    EXPECT_EQ(inspect_states(dir), inspect_states(dest.string())) << src;
    ++n;
  }
  EXPECT_GE(n, 9u);
}

TEST(CopyArchive, MembersThatEscapeDestOrAreLinksAreRefused) {
  TempDir t;
  fs::path stage = t.path / "stage";
  fs::create_directories(stage / "inner");
  test::write_file(stage / "inner" / "f", "x");
  test::write_file(t.path / "outside", "y");
  fs::create_symlink("/etc/passwd", stage / "link");
  fs::create_hard_link(stage / "inner" / "f", stage / "inner" / "g");
  struct Case {
    const char* name;
    std::string tar;  // tar arguments creating the archive
    const char* says;
  } cases[] = {
      {"dotdot", "-C " + stage.string() + " inner/f --transform=s,inner/f,../evil,", "escapes the destination"},
      {"nested-dotdot", "-C " + stage.string() + " inner/f --transform=s,inner/f,inner/../../evil,", "escapes the destination"},
      {"absolute", "-P -C " + stage.string() + " inner/f --transform=s,inner/f,/tmp/fsp-evil-absolute,", "escapes the destination"},
      {"symlink", "-C " + stage.string() + " link", "is a link"},
      {"hardlink", "-C " + stage.string() + " inner/f inner/g", "is a link"},
  };
  for (const auto& c : cases) {
    fs::path archive = t.path / (std::string(c.name) + ".tar.zst");
    auto made = test::run_command("tar --zstd -cf " + archive.string() + " " + c.tar + " 2>&1");
    ASSERT_EQ(made.exit_code, 0) << c.name << ": " << made.out;
    fs::path dest = t.path / ("dest-" + std::string(c.name));
    CopyOptions u;
    u.dest = dest.string();
    EXPECT_TRUE(test::is_error(copy_from_archive(archive.string(), u), ErrorKind::kData, {c.says})) << c.name;
    EXPECT_FALSE(fs::exists(dest / "_metadata")) << c.name;
    EXPECT_FALSE(fs::exists(t.path / "evil")) << c.name;
    EXPECT_FALSE(fs::exists("/tmp/fsp-evil-absolute")) << c.name;
  }
  // The CLI: exit 65, nothing outside DEST.
  auto r = test::run_command(test::cli_path() + " copy " + (t.path / "dotdot.tar.zst").string() + " " +
                             (t.path / "cli-dest").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 65) << r.out;
  EXPECT_NE(r.out.find("escapes the destination"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(t.path / "evil"));
}

// libarchive is opened when an archive is used: when it cannot be loaded,
// writing and reading an archive fail with exit 74, the loader's reason and a
// hint, and nothing is written; a plain copy does not need it.
TEST(CopyArchive, WithoutLibarchiveArchivesFailCleanlyAndPlainCopiesWork) {
  FSP_REQUIRE_SHARED(shared);
  fs::path src = shared / "testdata" / "flink-repo" / test::kSource;
  TempDir t;
  const std::string env = "FSP_LIBARCHIVE=/nonexistent/libarchive.so.13 ";
  auto w = test::run_command(env + test::cli_path() + " copy " + src.string() + " " + (t.path / "a.tar.zst").string() + " 2>&1");
  EXPECT_EQ(w.exit_code, 74) << w.out;
  EXPECT_NE(w.out.find("error: .tar.zst archives need libarchive, which could not be loaded: /nonexistent/libarchive.so.13"),
            std::string::npos) << w.out;
  EXPECT_NE(w.out.find("hint: install libarchive"), std::string::npos) << w.out;
  EXPECT_FALSE(fs::exists(t.path / "a.tar.zst"));
  auto made = test::run_command(test::cli_path() + " copy " + src.string() + " " + (t.path / "b.tar.zst").string());
  ASSERT_EQ(made.exit_code, 0) << made.out;
  auto r = test::run_command(env + test::cli_path() + " copy " + (t.path / "b.tar.zst").string() + " " + (t.path / "unpacked").string() + " 2>&1");
  EXPECT_EQ(r.exit_code, 74) << r.out;
  EXPECT_NE(r.out.find("need libarchive, which could not be loaded"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(t.path / "unpacked" / "_metadata"));
  auto plain = test::run_command(env + test::cli_path() + " copy " + src.string() + " " + (t.path / "plain").string());
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_TRUE(fs::is_regular_file(t.path / "plain" / "_metadata"));
}

}  // namespace
}  // namespace fsp
