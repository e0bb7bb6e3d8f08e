// relocate's write path (issue #12, item 6), through the CLI on copies of the
// sample savepoint in a temporary directory: a symlinked _metadata is written
// through (the link stays a link), nothing but a regular file is ever
// replaced (devices, FIFOs, dangling links), mode and owner of the replaced
// file are kept, and temporary files of earlier runs that died are removed.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "flink_savepoint/metadata.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::shell_quote;

test::CommandResult relocate(const std::string& args) {
  return test::run_command(shell_quote(test::cli_path()) + " relocate " + args + " 2>&1");
}

const fs::path kSample = fs::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint" / "_metadata";

void copy_sample(const fs::path& to, mode_t mode) {
  fs::create_directories(to.parent_path());
  fs::copy_file(kSample, to, fs::copy_options::overwrite_existing);
  ASSERT_EQ(::chmod(to.c_str(), mode), 0);
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

// The issue: --in-place through a symlinked _metadata replaced the link with a
// regular file of mode 0777 (lstat of the link) and _metadata.bak became the link.
TEST(RegressionWritePath, InPlaceThroughASymlinkWritesTheFileItNames) {
  TempDir tmp;
  const fs::path real = tmp.path / "store" / "_metadata";
  copy_sample(real, 0640);
  fs::create_directories(tmp.path / "sp");
  fs::create_symlink(real, tmp.path / "sp" / "_metadata");
  const std::string original = test::read_file(real);

  auto r = relocate(shell_quote((tmp.path / "sp").string()) + " --from /nonexistent --to /x --allow-no-match --in-place");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(S_ISLNK(lstat_of(tmp.path / "sp" / "_metadata").st_mode)) << "the link was replaced";
  struct stat st = lstat_of(real);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_TRUE(decode_metadata(test::read_file(real)).ok());
  // The backup holds the original bytes and is not the link.
  const fs::path bak = tmp.path / "sp" / "_metadata.bak";
  ASSERT_TRUE(fs::exists(bak)) << r.out;
  EXPECT_FALSE(S_ISLNK(lstat_of(bak).st_mode));
  EXPECT_EQ(test::read_file(bak), original);
  // No temporary file is left in either directory.
  for (const fs::path& d : {tmp.path / "sp", tmp.path / "store"})
    for (const auto& e : fs::directory_iterator(d))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

// --force replaced device nodes and FIFOs (as root, --output /dev/full --force
// replaced /dev/full). Now anything but a regular file (or a link to one) is refused.
TEST(RegressionWritePath, ForceNeverReplacesAnythingButARegularFile) {
  TempDir tmp;
  copy_sample(tmp.path / "sp" / "_metadata", 0644);
  const std::string in = shell_quote((tmp.path / "sp").string()) + " --from /nonexistent --to /x --allow-no-match --force --output ";

  auto dev = relocate(in + shell_quote("/dev/null"));
  EXPECT_EQ(dev.exit_code, 73) << dev.out;
  EXPECT_NE(dev.out.find("not a regular file"), std::string::npos) << dev.out;
  EXPECT_TRUE(S_ISCHR(lstat_of("/dev/null").st_mode));

  const fs::path fifo = tmp.path / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  auto f = relocate(in + shell_quote(fifo.string()));
  EXPECT_EQ(f.exit_code, 73) << f.out;
  EXPECT_TRUE(S_ISFIFO(lstat_of(fifo).st_mode));

  const fs::path dangling = tmp.path / "dangling";
  fs::create_symlink(tmp.path / "nowhere" / "_metadata", dangling);
  auto d = relocate(in + shell_quote(dangling.string()));
  EXPECT_EQ(d.exit_code, 73) << d.out;
  EXPECT_TRUE(S_ISLNK(lstat_of(dangling).st_mode));
  EXPECT_FALSE(fs::exists(tmp.path / "nowhere"));

  // A link to a regular file: written through, the link stays.
  const fs::path target = tmp.path / "other" / "_metadata";
  copy_sample(target, 0600);
  const fs::path link = tmp.path / "link";
  fs::create_symlink(target, link);
  auto l = relocate(in + shell_quote(link.string()));
  EXPECT_EQ(l.exit_code, 0) << l.out;
  EXPECT_TRUE(S_ISLNK(lstat_of(link).st_mode));
  EXPECT_EQ(lstat_of(target).st_mode & 07777, 0600u);
}

// Root relocating a 0600 file owned by the Flink user left it owned by root.
TEST(RegressionWritePath, OwnerAndModeOfTheReplacedFileAreKept) {
  // The mode is checked by any user; another user's ownership only by root.
  const bool root = ::geteuid() == 0;
  const uid_t uid = root ? 4242 : ::geteuid();
  const gid_t gid = root ? 4343 : ::getegid();
  TempDir tmp;
  const fs::path m = tmp.path / "sp" / "_metadata";
  copy_sample(m, 0600);
  ASSERT_EQ(::chown(m.c_str(), uid, gid), 0);
  auto r = relocate(shell_quote((tmp.path / "sp").string()) + " --from /nonexistent --to /x --allow-no-match --in-place");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  struct stat st = lstat_of(m);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_gid, gid);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  if (!root) GTEST_SKIP() << "mode kept; keeping another user's ownership (4242:4343) needs root";
}

// kill -9 left ._metadata.tmp-* files that later runs kept. A temporary file
// is locked (flock) by the run writing it; one that nobody holds and that is
// older than a few seconds belongs to a dead run and is removed.
TEST(RegressionWritePath, StaleTemporaryFilesOfDeadRunsAreRemoved) {
  TempDir tmp;
  const fs::path dir = tmp.path / "sp";
  copy_sample(dir / "_metadata", 0644);
  auto make = [&](const std::string& name, bool old) {
    fs::path p = dir / name;
    std::ofstream(p.string()) << "partial";
    if (old) {
      struct timespec ts[2] = {{0, 0}, {0, 0}};
      ts[0].tv_sec = ts[1].tv_sec = ::time(nullptr) - 3600;
      EXPECT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, 0), 0);
    }
    return p;
  };
  const fs::path dead = make("._metadata.tmp-Ab12Cd", true);
  const fs::path fresh = make("._metadata.tmp-Ef34Gh", false);   // may be a run that just started
  const fs::path held = make("._metadata.tmp-Ij56Kl", true);     // a live run holds it
  const fs::path other = make(".other.tmp-Mn78Op", true);        // not ours
  int fd = ::open(held.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);

  auto r = relocate(shell_quote(dir.string()) + " --from /nonexistent --to /x --allow-no-match --in-place");
  ::close(fd);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(fs::exists(dead)) << r.out;
  EXPECT_TRUE(fs::exists(fresh));
  EXPECT_TRUE(fs::exists(held));
  EXPECT_TRUE(fs::exists(other));
}

}  // namespace
}  // namespace fsp
