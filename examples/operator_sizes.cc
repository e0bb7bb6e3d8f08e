// Lists the operators of a savepoint or checkpoint with their state sizes,
// and the states each holds (read from the state files), with the installed
// flink_savepoint library:
//   operator_sizes path/to/savepoint-dir-or-_metadata
#include <cstdio>
#include <string>

#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/snapshot_file.h"
#include "flink_savepoint/state.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SNAPSHOT (a _metadata file or its directory)\n", argv[0]);
    return 64;
  }
  auto file = fsp::open_snapshot(argv[1]);
  if (!file) {
    std::fprintf(stderr, "error: %s\n", file.error().to_string().c_str());
    return 65;
  }
  const fsp::Snapshot& s = file->snapshot;
  std::printf("checkpoint %lld, metadata version %d, %zu operators\n", static_cast<long long>(s.checkpoint_id),
              s.version, s.operators.size());
  auto states = fsp::read_states(*file);
  for (size_t i = 0; i < s.operators.size(); ++i) {
    const fsp::OperatorState& op = s.operators[i];
    std::string uid = fsp::modified_utf8_to_utf8(op.uid);
    std::printf("%s uid=%s parallelism=%d bytes=%lld\n", op.id_hex().c_str(), uid.empty() ? "-" : uid.c_str(),
                op.parallelism, static_cast<long long>(op.size()));
    if (!states) continue;
    for (const fsp::StateInfo& st : (*states)[i].states)
      std::printf("  state %s (%s): %lld entries, %lld bytes\n", st.name.c_str(), st.kind.c_str(),
                  static_cast<long long>(st.entries), static_cast<long long>(st.bytes));
  }
  return 0;
}
