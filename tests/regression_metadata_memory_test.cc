// Regression tests (issue #6): memory the metadata decoder allocates must be
// justified by the input. Inputs are built in code.
#include <gtest/gtest.h>

#include <algorithm>
#include <unistd.h>

#include <fstream>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/metadata.h"
#include "test_support.h"

namespace fsp {
namespace {

// A valid metadata v3 file: one operator (parallelism n) whose n subtasks are
// all finished (a negative index, 4 bytes each, no body).
std::string finished_subtasks_metadata(int32_t n) {
  std::string s;
  ByteWriter w(s);
  w.i32(kMetadataMagic);
  w.i32(3);
  w.i64(7);   // checkpoint id
  w.i32(0);   // master states
  w.i32(1);   // operators
  for (int i = 0; i < 16; ++i) w.u8(static_cast<uint8_t>(i));
  w.i32(n);   // parallelism
  w.i32(std::max(n, 32768));  // max parallelism (Flink refuses one below the parallelism)
  w.u8(0);    // coordinator state: null
  w.i32(n);   // subtask states
  for (int32_t i = 0; i < n; ++i) w.i32(-i - 1);
  return s;
}

// Found by fuzz_metadata (UBSan, signed overflow in `-idx - 1`): a finished
// subtask stored as index INT32_MIN is subtask INT32_MAX, as in Java. With
// parallelism 1 Flink's OperatorState.putState refuses that index (issue
// #12), so the file is refused too, naming the index without overflowing.
TEST(RegressionMetadataMemory, FinishedSubtaskIndexInt32MinDoesNotOverflow) {
  std::string b("\x49\x60\x67\x2D\x00\x00\x00\x03", 8);  // magic, v3
  b += std::string(8, '\0');                                  // checkpoint id 0
  b += std::string("\x00\x00\x00\x00", 4);                    // no master states
  b += std::string("\x00\x00\x00\x01", 4);                    // one operator
  b += std::string(16, '\x07');                               // operator id
  b += std::string("\x00\x00\x00\x01\x00\x00\x00\x80", 8);    // parallelism 1, max 128
  b += std::string("\x00", 1);                                // no coordinator state
  b += std::string("\x00\x00\x00\x01", 4);                    // one subtask state
  b += std::string("\x80\x00\x00\x00", 4);                    // index INT32_MIN: finished
  auto r = decode_metadata(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("The given sub task index 2147483647 exceeds the maximum number of sub tasks 0", 0), 0u)
      << r.error().message;
  EXPECT_EQ(r.error().offset, b.size() - 4);
}

TEST(RegressionMetadataMemory, FinishedSubtasksDecodeAndRoundTrip) {
  std::string b = finished_subtasks_metadata(1000);
  auto r = decode_metadata(b);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->operators.size(), 1u);
  ASSERT_EQ(r->operators[0].subtasks.size(), 1000u);
  EXPECT_TRUE(r->operators[0].subtasks[999].finished);
  EXPECT_EQ(r->operators[0].subtasks[999].index, 999);
  auto e = encode_metadata(*r);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, b);
}

// Was a bug: each finished subtask (4 bytes on disk) costs a whole
// SubtaskState in the model, so a valid 4 MB v3 _metadata with 1,000,000
// finished subtasks made `inspect` use 1.06 GB, and under `ulimit -v 1048576`
// it died with "internal error: std::bad_alloc" (exit 70). The decoder now
// charges every vector it sizes against a budget of 256 MiB + 32x the file
// size and stops with a clean data error (exit 65) naming the offset; an
// allocation failure under an external limit is a clean error too.
TEST(RegressionMetadataMemory, FourMegabytesOfFinishedSubtasksFailCleanlyUnderOneGibibyte) {
#ifdef FSP_TEST_ASAN
  GTEST_SKIP() << "ulimit -v does not work with ASan's shadow memory";
#endif
  std::string dir = (std::filesystem::temp_directory_path() / ("fsp-mem-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  std::string path = dir + "/_metadata";
  std::string b = finished_subtasks_metadata(1000000);
  std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
  auto r = test::run_command("ulimit -v 1048576; " + test::cli_path() + " inspect " + path + " 2>&1");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.exit_code, 65) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("MiB of memory"), std::string::npos) << r.out.substr(0, 2000);
  EXPECT_NE(r.out.find("at byte 49"), std::string::npos) << r.out.substr(0, 2000);
}

}  // namespace
}  // namespace fsp
