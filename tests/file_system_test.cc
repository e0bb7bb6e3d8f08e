// The file-system seam (file_system.h): local reads (mapped, refusing
// anything but regular files without blocking), URI forms, the registry,
// the atomic writer, and state handles that name devices or FIFOs.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

const std::string kSample = std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint/_metadata";

TEST(FileSystem, UriHelpers) {
  EXPECT_EQ(io::uri_scheme("/x/y"), "");
  EXPECT_EQ(io::uri_scheme("file:/x"), "file");
  EXPECT_EQ(io::uri_scheme("S3://bucket/k"), "s3");
  EXPECT_EQ(io::uri_scheme("relative/a:b"), "");
  EXPECT_EQ(io::uri_scheme("C"), "");
  EXPECT_EQ(io::normalize_local("/x"), "/x");
  EXPECT_EQ(io::normalize_local("file:/x"), "/x");
  EXPECT_EQ(io::normalize_local("file:///x"), "/x");
  EXPECT_EQ(io::normalize_local("file://localhost/x"), "/x");
  EXPECT_EQ(io::normalize_local("s3://b/x"), "s3://b/x");
  EXPECT_EQ(io::parent_uri("/a/b/_metadata"), "/a/b");
  EXPECT_EQ(io::parent_uri("/_metadata"), "/");
  EXPECT_EQ(io::parent_uri("_metadata"), ".");
  EXPECT_EQ(io::parent_uri("s3://b/chk-1/"), "s3://b");
  EXPECT_EQ(io::join_uri("s3://b/chk-1", "x"), "s3://b/chk-1/x");
  EXPECT_EQ(io::join_uri("/a/", "x"), "/a/x");
}

TEST(FileSystem, FileUriFormsReadTheSameLocalFile) {
  auto a = io::read_file(kSample);
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_GT((*a)->bytes().size(), 100u);
  for (const std::string& u : {"file:" + kSample, "file://" + kSample}) {
    auto b = io::read_file(u);
    ASSERT_TRUE(b.ok()) << u << ": " << b.error().to_string();
    EXPECT_EQ((*b)->bytes(), (*a)->bytes()) << u;
  }
  // Snapshot opening accepts the same forms.
  auto sf = open_snapshot("file://" + kSample);
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  EXPECT_EQ(sf->snapshot.checkpoint_id, 42);
  EXPECT_EQ(sf->snapshot.operators.size(), 3u);
}

TEST(FileSystem, MissingFileIsNoInput) {
  auto r = io::read_file("/nonexistent-fsp/_metadata");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kNoInput);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

TEST(FileSystem, DevicesAreRefusedNotRead) {
  for (const char* u : {"/dev/zero", "file:/dev/zero", "file:///dev/null"}) {
    auto r = io::read_file(u);
    ASSERT_FALSE(r.ok()) << u;
    EXPECT_EQ(r.error().kind, ErrorKind::kNoInput) << u;
    EXPECT_NE(r.error().message.find("character device"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().hint.find("flink-savepoint inspect - <"), std::string::npos) << r.error().hint;
  }
  auto d = io::read_file("/tmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("a directory"), std::string::npos) << d.error().message;
}

TEST(FileSystem, FifoWithoutWriterIsRefusedWithoutBlocking) {
  TempDir tmp;
  const fs::path fifo = tmp.path / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto r = io::read_file(fifo.string());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_LT(ms, 5000);
  EXPECT_NE(r.error().message.find("FIFO"), std::string::npos) << r.error().message;
  auto o = io::file_system_for(fifo.string());
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE((*o)->open(fifo.string()).ok());
  auto st = (*o)->stat(fifo.string());
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->is_regular);
  EXPECT_FALSE(st->is_directory);
}

TEST(FileSystem, StateHandlesNamingDevicesOrFifosAreRefused) {
  TempDir tmp;
  const fs::path fifo = tmp.path / "state-fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  StreamHandle h;
  h.code = code::kFile;
  h.state_size = 100;
  for (const std::string& p : {std::string("file:/dev/zero"), std::string("/dev/urandom"), "file:" + fifo.string()}) {
    h.path = p;
    auto r = resolve_stream(h, tmp.path.string(), {});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_EQ(r.error().kind, ErrorKind::kNoInput) << p;
    EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  }
  // A relative handle naming a FIFO beside the _metadata.
  h.code = code::kRelative;
  h.path = "state-fifo";
  auto r = resolve_stream(h, tmp.path.string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("FIFO"), std::string::npos) << r.error().message;
}

TEST(FileSystem, MaxBytesIsHonoured) {
  auto small = io::read_file(kSample, io::ReadOptions{10});
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("more than the 10 bytes"), std::string::npos) << small.error().message;
  EXPECT_TRUE(io::read_file(kSample, io::ReadOptions{1u << 30}).ok());
}

TEST(FileSystem, OtherSchemesAreUnsupportedWithAStdinHint) {
  auto r = io::read_file("hdfs://nn:8020/flink/chk-7/_metadata");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("hdfs"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("hdfs dfs -cat hdfs://nn:8020/flink/chk-7/_metadata | flink-savepoint inspect -"),
            std::string::npos)
      << r.error().hint;
  // The CLI shows it.
  auto cli = test::run_command(test::cli_path() + " inspect hdfs://nn:8020/flink/chk-7 2>&1");
  EXPECT_NE(cli.exit_code, 0);
  EXPECT_NE(cli.out.find("hdfs dfs -cat"), std::string::npos) << cli.out;
}

// A store registered for a scheme serves it (one class plus registration).
class MemoryFileSystem final : public io::FileSystem {
 public:
  std::vector<std::string> schemes() const override { return {"mem"}; }
  Result<io::FileInfo> stat(const std::string& uri) override {
    io::FileInfo i;
    i.uri = uri;
    if (uri == "mem://b/chk-1") {
      i.is_directory = true;
      i.is_regular = false;
    } else if (uri == "mem://b/chk-1/_metadata") {
      i.size = bytes.size();
    } else {
      return Error::no_input("cannot find " + uri);
    }
    return i;
  }
  Result<std::vector<io::FileInfo>> list(const std::string&, bool) override { return std::vector<io::FileInfo>{}; }
  Result<std::shared_ptr<const io::Buffer>> read(const std::string& uri, const io::ReadOptions&) override {
    struct B : io::Buffer {
      std::string s;
      std::string_view bytes() const override { return s; }
    };
    if (uri != "mem://b/chk-1/_metadata") return Error::no_input("cannot open " + uri);
    auto b = std::make_shared<B>();
    b->s = bytes;
    return std::shared_ptr<const io::Buffer>(b);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> open(const std::string&) override { return Error::usage("no"); }
  Result<std::unique_ptr<io::WritableFile>> create(const std::string&, const io::WriteOptions&) override {
    return Error::usage("no");
  }
  Status remove(const std::string&) override { return Error::usage("no"); }
  std::string bytes;
};

TEST(FileSystem, RegisteredStoreServesItsScheme) {
  auto mem = std::make_shared<MemoryFileSystem>();
  mem->bytes = test::read_file(kSample);
  io::register_file_system(mem);
  auto sf = open_snapshot("mem://b/chk-1");
  ASSERT_TRUE(sf.ok()) << sf.error().to_string();
  EXPECT_EQ(sf->metadata_path, "mem://b/chk-1/_metadata");
  EXPECT_EQ(sf->directory, "mem://b/chk-1");
  EXPECT_EQ(sf->snapshot.checkpoint_id, 42);
}

TEST(FileSystem, AtomicWriteKeepsModeAndBackup) {
  TempDir tmp;
  const fs::path target = tmp.path / "out";
  write_file(target, "old");
  ::chmod(target.c_str(), 0640);
  // Existing target without overwrite or backup: refused.
  auto refused = io::write_file_atomic(target.string(), "new");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kCantCreate);
  io::WriteOptions o;
  o.backup_uri = (tmp.path / "out.bak").string();
  std::string seen;
  o.verify = [&](std::string_view w) {
    seen = std::string(w);
    return Status{};
  };
  ASSERT_TRUE(io::write_file_atomic("file://" + target.string(), "new bytes", o).ok());
  EXPECT_EQ(seen, "new bytes");
  EXPECT_EQ(test::read_file(target), "new bytes");
  EXPECT_EQ(test::read_file(tmp.path / "out.bak"), "old");
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // A failing verification leaves the target untouched and no temporary file.
  io::WriteOptions o2;
  o2.overwrite = true;
  o2.verify = [](std::string_view) -> Status { return Error::data("no good"); };
  auto bad = io::write_file_atomic(target.string(), "newer", o2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "no good");
  EXPECT_EQ(test::read_file(target), "new bytes");
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(tmp.path)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2u);  // out, out.bak
  // A directory is never replaced.
  fs::create_directories(tmp.path / "dir");
  o2.verify = nullptr;
  auto dir = io::write_file_atomic((tmp.path / "dir").string(), "x", o2);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error().kind, ErrorKind::kCantCreate);
}

TEST(FileSystem, ListsADirectory) {
  TempDir tmp;
  fs::create_directories(tmp.path / "a" / "b");
  write_file(tmp.path / "a" / "b" / "f", "12345");
  write_file(tmp.path / "g", "1");
  auto fsys = io::file_system_for(tmp.path.string());
  ASSERT_TRUE(fsys.ok());
  auto flat = (*fsys)->list(tmp.path.string(), false);
  ASSERT_TRUE(flat.ok());
  ASSERT_EQ(flat->size(), 2u);
  EXPECT_TRUE((*flat)[0].is_directory);
  EXPECT_EQ((*flat)[1].size, 1u);
  auto deep = (*fsys)->list("file:" + tmp.path.string(), true);
  ASSERT_TRUE(deep.ok());
  ASSERT_EQ(deep->size(), 4u);
  EXPECT_EQ(deep->at(2).uri, (tmp.path / "a" / "b" / "f").string());
  EXPECT_EQ(deep->at(2).size, 5u);
}

}  // namespace
}  // namespace fsp
