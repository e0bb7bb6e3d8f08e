// Decode then encode gives back the input's bytes, for inputs the fuzzers
// found that did not (docs/fuzzing.md). Inputs are built with the project's
// own encoder and a described mutation.
#include <gtest/gtest.h>

#include <string>

#include "flink_savepoint/java_serialization.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/model.h"

namespace fsp {
namespace {

// One operator with one subtask whose managed operator state is a file-merging
// handle (code 17) with the given stored isEmpty byte.
std::string file_merging_snapshot(uint8_t is_empty) {
  Snapshot s;
  s.version = 6;
  s.checkpoint_id = 7;
  s.operators.resize(1);
  OperatorState& op = s.operators[0];
  op.parallelism = 1;
  op.max_parallelism = 128;
  op.subtasks.resize(1);
  SubtaskState& st = op.subtasks[0];
  st.managed_op_flag = 1;
  OperatorHandle& h = st.managed_operator;
  h.code = code::kSegmentPartitionableOperator;
  h.task_owned_dir = s.store("hdfs://nn/flink/taskowned/job_x_op_1");
  h.shared_dir = s.store("hdfs://nn/flink/shared/job_x_op_1");
  h.is_empty = is_empty;
  h.delegate.code = code::kEmptySegmentFile;
  s.trailer = s.store(write_checkpoint_properties(checkpoint_properties_for_savepoint(false)));
  auto e = encode_metadata(s);
  EXPECT_TRUE(e.ok()) << e.error().to_string();
  return e.ok() ? *e : std::string();
}

// Found by the metadata fuzzer in the CI rehearsal of stop 25: the isEmpty
// boolean of a file-merging operator handle stored as 0x70. Flink's
// readBoolean takes any nonzero byte as true, and so did the decoder, but the
// model kept only a bool and the encoder wrote 0x01: decode then encode
// changed the file. The model now keeps the stored byte.
TEST(RegressionMetadataRoundTrip, FileMergingIsEmptyByteOtherThanOneEncodesBack) {
  const std::string zero = file_merging_snapshot(0), one = file_merging_snapshot(1);
  ASSERT_FALSE(zero.empty());
  ASSERT_EQ(zero.size(), one.size());
  size_t at = 0, differing = 0;
  for (size_t i = 0; i < zero.size(); ++i)
    if (zero[i] != one[i]) at = i, ++differing;
  ASSERT_EQ(differing, 1u) << "the two files differ in the isEmpty byte only";
  ASSERT_EQ(static_cast<uint8_t>(one[at]), 1);

  for (uint8_t stored : {uint8_t{0x70}, uint8_t{0x02}, uint8_t{0xff}}) {
    std::string bytes = one;
    bytes[at] = static_cast<char>(stored);
    auto r = decode_metadata(bytes);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    const OperatorHandle& h = r->operators[0].subtasks[0].managed_operator;
    EXPECT_EQ(h.is_empty, stored);
    EXPECT_EQ(snapshot_to_json(*r)["operators"][0]["subtasks"][0]["managed_operator_state"][0]["type"],
              "EmptyFileMergingOperatorStreamStateHandle");
    auto e = encode_metadata(*r);
    ASSERT_TRUE(e.ok()) << e.error().to_string();
    EXPECT_EQ(*e, bytes) << "stored byte " << int{stored};
  }
  auto r = decode_metadata(zero);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(snapshot_to_json(*r)["operators"][0]["subtasks"][0]["managed_operator_state"][0]["type"],
            "FileMergingOperatorStreamStateHandle");
}

}  // namespace
}  // namespace fsp
