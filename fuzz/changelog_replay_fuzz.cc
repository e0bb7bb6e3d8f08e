// Fuzz target: the in-memory changelog replay (formats/state/changelog_replay.cc)
// that dump and inspect --states run over a changelog handle without a
// materialized part. The input is a list of changes, each framed as
// int32 key group (big-endian; -1 = METADATA), uint16 length, then that many
// bytes; a last incomplete frame is dropped. The increment holds key groups 0..127. Invariant besides "no crash":
// a failure is a data error (corrupt, truncated or unsupported) with a message.
#include <cstdint>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/changelog_replay.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  ByteReader r(fuzz::as_view(data, size));
  KeyedHandle inc;
  inc.code = code::kChangelogByteIncrement;
  inc.range = {0, 128};
  while (r.remaining() >= 6) {
    ChangelogChange c;
    c.key_group = r.i32();
    uint16_t n = r.u16();
    if (!r.ok() || n > r.remaining()) break;
    c.data = r.bytes(n);
    inc.changes.push_back(c);
  }
  KeyedHandle h;
  h.code = code::kChangelog;
  h.non_materialized.push_back(std::move(inc));
  auto rp = state::replay_changelog(h);
  if (!rp.ok()) {
    FSP_FUZZ_CHECK(!rp.error().message.empty(), rp.error().to_string());
    FSP_FUZZ_CHECK(rp.error().is_bad_data(), rp.error().to_string());
    return 0;
  }
  for (const auto& s : rp->states)
    for (const auto& e : s.entries) FSP_FUZZ_CHECK(e.key_group >= 0 && e.key_group < 128, "an entry outside the key groups");
  return 0;
}
