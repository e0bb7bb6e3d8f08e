// State handles that name devices or FIFOs, and handles whose file is larger
// than they say (issue #12, item 2), through the CLI: `inspect --states` on a
// file:/dev/zero handle read forever (8.8 GB RSS in 20 s) and a FIFO hung in
// open(); now both are a per-handle problem and the command ends at once.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/state.h"
#include "test_support.h"

namespace fsp {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::shell_quote;

// A v6 _metadata whose one keyed handle (code 3) names `uri` with `size` bytes.
void write_one_handle(const fs::path& dir, const std::string& uri, int64_t size) {
  Snapshot s;
  s.version = 6;
  s.checkpoint_id = 1;
  s.trailer = s.store(write_checkpoint_properties(checkpoint_properties_for_savepoint(false)));
  s.operators.resize(1);
  s.operators[0].parallelism = 1;
  s.operators[0].max_parallelism = 128;
  s.operators[0].subtasks.resize(1);
  KeyedHandle& k = s.operators[0].subtasks[0].managed_keyed;
  k.code = code::kKeyGroups;
  k.range = {0, 1};
  k.offsets = BeLongs{s.store(std::string(8, '\0'))};
  k.delegate.code = code::kFile;
  k.delegate.path = s.store(uri);
  k.delegate.state_size = size;
  auto enc = encode_metadata(s);
  ASSERT_TRUE(enc.ok()) << enc.error().to_string();
  fs::create_directories(dir);
  std::ofstream(dir / "_metadata", std::ios::binary) << *enc;
}

TEST(RegressionStatePaths, DeviceAndFifoHandlesEndAtOnceInEveryCommand) {
  TempDir tmp;
  ASSERT_EQ(::mkfifo((tmp.path / "fifo").c_str(), 0600), 0);
  write_one_handle(tmp.path / "dev", "file:/dev/zero", 1 << 20);
  write_one_handle(tmp.path / "fifo-sp", "file:" + (tmp.path / "fifo").string(), 100);
  std::ofstream(tmp.path / "job.json") << R"({"operators": [{"uid": "x"}]})";
  const std::string cli = "timeout 60 " + shell_quote(test::cli_path());
  for (const char* sp : {"dev", "fifo-sp"}) {
    const std::string d = shell_quote((tmp.path / sp).string());
    auto r = test::run_command(cli + " inspect --states --json " + d + " 2>/dev/null");
    ASSERT_EQ(r.exit_code, 0) << sp << ": " << r.out.substr(0, 500);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out.substr(0, 500);
    EXPECT_NE(r.out.find("not a regular file"), std::string::npos) << r.out.substr(0, 2000);
    auto l = test::run_command(cli + " lint " + d + " 2>&1");
    EXPECT_NE(l.exit_code, 124) << "lint hung on " << sp;
    EXPECT_NE(l.out.find("could not be read"), std::string::npos) << l.out;
    auto c = test::run_command(cli + " check " + d + " --job " + shell_quote((tmp.path / "job.json").string()) + " 2>&1");
    EXPECT_NE(c.exit_code, 124) << "check hung on " << sp;
    EXPECT_NE(c.exit_code, 0) << c.out;  // never "compatible" over state it could not read
  }
}

// A file handle is read up to its stated size, never further.
TEST(RegressionStatePaths, FileHandleIsReadUpToItsStatedSize) {
  TempDir tmp;
  const fs::path f = tmp.path / "state";
  std::ofstream(f, std::ios::binary) << std::string(1000, 'x');
  StreamHandle h;
  h.code = code::kFile;
  std::string uri = "file:" + f.string();
  h.path = uri;
  h.state_size = 100;
  auto r = resolve_stream(h, tmp.path.string(), {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->bytes.size(), 100u);
  h.state_size = 5000;  // larger than the file: what is there
  r = resolve_stream(h, tmp.path.string(), {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes.size(), 1000u);
}

}  // namespace
}  // namespace fsp
