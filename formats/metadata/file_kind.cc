#include "formats/metadata/file_kind.h"

#include <cstring>

namespace fsp {
namespace {

bool starts(std::string_view b, std::string_view magic) { return b.substr(0, magic.size()) == magic; }

bool looks_like_text(std::string_view b) {
  size_t n = std::min<size_t>(b.size(), 512), printable = 0;
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(b[i]);
    if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7F) || c >= 0x80) ++printable;
    if (c == 0) return false;
  }
  return printable == n;
}

}  // namespace

ForeignFile identify_foreign_file(std::string_view b) {
  const std::string stream = " | flink-savepoint inspect -";
  if (b.empty())
    return {"the file is empty (0 bytes)",
            "an incomplete copy or upload, or a checkpoint that was still being written: copy _metadata again, "
            "or pick a complete checkpoint (one whose _metadata is not empty)"};
  if (starts(b, "\x1F\x8B"))
    return {"the file is gzip-compressed data, not a _metadata file", "decompress it first: gunzip -c FILE" + stream};
  if (starts(b, "\x28\xB5\x2F\xFD"))
    return {"the file is zstd-compressed data, not a _metadata file", "decompress it first: zstd -dc FILE" + stream};
  if (starts(b, "\xFD" "7zXZ"))
    return {"the file is xz-compressed data, not a _metadata file", "decompress it first: xz -dc FILE" + stream};
  if (starts(b, "BZh") && b.size() > 3 && b[3] >= '1' && b[3] <= '9')
    return {"the file is bzip2-compressed data, not a _metadata file", "decompress it first: bzip2 -dc FILE" + stream};
  if (starts(b, "PK\x03\x04") || starts(b, "PK\x05\x06"))
    return {"the file is a zip archive (or a jar), not a _metadata file",
            "unpack it and point at the _metadata file or the directory holding it: unzip -p FILE '*_metadata'" + stream};
  if (b.size() >= 262 && std::memcmp(b.data() + 257, "ustar", 5) == 0)
    return {"the file is a tar archive, not a _metadata file",
            "unpack it and point at the directory holding _metadata: tar -xf FILE"};
  if (starts(b, "\xAC\xED\x00\x05"))
    return {"the file is a Java serialization stream, not a _metadata file",
            "a Flink 1.0 savepoint (Flink no longer supports those) or another Java-serialized file"};
  size_t i = 0;
  while (i < b.size() && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t')) ++i;
  if (i < b.size() && (b[i] == '{' || b[i] == '[') && looks_like_text(b))
    return {"the file is JSON text, not a _metadata file",
            "a job description goes to `check --job`; `inspect` takes a savepoint or checkpoint _metadata"};
  if (looks_like_text(b))
    return {"the file is text, not a binary _metadata file",
            "point at the _metadata file of a savepoint or checkpoint, or the directory (chk-N, savepoint-...) that holds it"};
  return {};
}

}  // namespace fsp
