// libFuzzer target: the object stores' XML reader (ListObjectsV2 pages and
// <Error> documents, src/io/s3_file_system.cc). Properties: no crash, no
// hang; a rejected listing is a data error whose offset lies in the input.
#include "flink_savepoint/s3_file_system.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml = fsp::fuzz::as_view(data, size);
  auto page = fsp::io::parse_list_objects_v2(xml);
  if (!page.ok()) {
    fsp::fuzz::check_data_error(page.error(), 0, size);
  } else {
    FSP_FUZZ_CHECK(page->objects.size() <= size, "more objects than input bytes");
    for (const auto& o : page->objects) FSP_FUZZ_CHECK(o.key.size() <= size, "a key longer than the input");
  }
  auto err = fsp::io::parse_store_error(xml);
  FSP_FUZZ_CHECK(err.code.size() <= 200 && err.message.size() <= 500, "error fields are bounded");
  (void)fsp::io::parse_iso8601_ms(xml);
  return 0;
}
