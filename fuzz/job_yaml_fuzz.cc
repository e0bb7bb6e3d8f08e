// Fuzz target: `check --config` / `--deployment` (src/analysis/job_config.cc):
// Flink's config.yaml / flink-conf.yaml and Kubernetes operator resources
// parsed with yaml-cpp from any bytes, then applied to a small job.
// Invariants: no exception escapes (yaml-cpp throws on bad input: every throw
// must become a usage error), a failure is kUsage with a message, and the
// settings that are set are within their ranges.
#include "flink_savepoint/job.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fsp;
  if (size > 64 * 1024) return 0;  // yaml-cpp's parser is recursive: keep inputs small
  std::string text(reinterpret_cast<const char*>(data), size);
  Result<JobSettings> s = parse_job_settings(text, "fuzz.yaml");
  if (!s.ok()) {
    FSP_FUZZ_CHECK(s.error().kind == ErrorKind::kUsage, s.error().to_string());
    FSP_FUZZ_CHECK(!s.error().message.empty(), "empty error message");
    return 0;
  }
  FSP_FUZZ_CHECK(s->max_parallelism >= 0 && s->max_parallelism <= 32768, "max parallelism out of range");
  FSP_FUZZ_CHECK(s->parallelism >= 0 && s->parallelism <= 32768, "parallelism out of range");
  FSP_FUZZ_CHECK(s->state_backend.empty() || s->state_backend == "hashmap" || s->state_backend == "rocksdb" ||
                     s->state_backend == "forst",
                 s->state_backend);
  NewJob job;
  job.kind = "manifest";
  job.operators.resize(2);
  job.operators[0].uid = "a";
  apply_job_settings(*s, job);
  return 0;
}
