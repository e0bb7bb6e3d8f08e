// The Snappy framing format (https://github.com/google/snappy/blob/main/framing_format.txt),
// as written by xerial's SnappyFramedOutputStream under Flink's
// SnappyStreamCompressionDecorator: a stream identifier chunk
// FF 06 00 00 "sNaPpY", then chunks of type 0x00 (compressed) or 0x01 (raw),
// each with a 3-byte little-endian length and a masked CRC32C of the
// uncompressed data. Decompression uses the snappy library; every length is
// checked before anything is allocated.
#include <snappy.h>

#include <array>
#include <cstring>
#include <string>

#include "flink_savepoint/state_internal.h"

namespace fsp::state {
namespace {

constexpr size_t kMaxChunkData = 65536;  // uncompressed bytes per chunk (framing spec)

const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> t = [] {
    std::array<uint32_t, 256> tab{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : (c >> 1);
      tab[i] = c;
    }
    return tab;
  }();
  return t;
}

uint32_t le24(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16); }
uint32_t le32(const uint8_t* p) { return le24(p) | (uint32_t(p[3]) << 24); }

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t n, uint32_t crc) {
  const auto& t = crc_table();
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

bool looks_snappy_framed(std::string_view b) {
  static constexpr char kId[] = "\xFF\x06\x00\x00sNaPpY";
  return b.size() >= 10 && std::memcmp(b.data(), kId, 10) == 0;
}

Result<FramedStream> decode_snappy_framed(std::string_view bytes, bool verify_crc, size_t max_output,
                                          uint64_t base_offset) {
  FramedStream out;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t n = bytes.size(), pos = 0;
  bool seen_id = false;
  auto err = [&](size_t at, std::string m) {
    return Error::data("Snappy framing: " + std::move(m), base_offset + at);
  };
  while (pos < n && out.data.size() < max_output) {
    if (n - pos < 4) return err(pos, "truncated chunk header");
    uint8_t type = p[pos];
    uint32_t len = le24(p + pos + 1);
    size_t body = pos + 4;
    if (len > n - body) return err(pos, "chunk length " + std::to_string(len) + " runs past the end");
    if (type == 0xFF) {
      if (len != 6 || std::memcmp(p + body, "sNaPpY", 6) != 0) return err(pos, "bad stream identifier chunk");
      seen_id = true;
    } else if (!seen_id) {
      return err(pos, "missing stream identifier chunk");
    } else if (type == 0x00 || type == 0x01) {
      if (len < 4) return err(pos, "chunk shorter than its checksum");
      uint32_t expected = le32(p + body);
      const char* data = reinterpret_cast<const char*>(p + body + 4);
      size_t dlen = len - 4;
      size_t before = out.data.size();
      if (type == 0x00) {
        size_t ulen = 0;
        if (!snappy::GetUncompressedLength(data, dlen, &ulen)) return err(body + 4, "corrupt compressed chunk");
        if (ulen > kMaxChunkData) return err(body + 4, "chunk expands to " + std::to_string(ulen) + " bytes (max 65536)");
        out.data.resize(before + ulen);
        if (!snappy::RawUncompress(data, dlen, out.data.data() + before)) return err(body + 4, "corrupt compressed chunk");
      } else {
        if (dlen > kMaxChunkData) return err(pos, "raw chunk of " + std::to_string(dlen) + " bytes (max 65536)");
        out.data.append(data, dlen);
      }
      if (verify_crc) {
        uint32_t actual = mask_crc32c(crc32c(reinterpret_cast<const uint8_t*>(out.data.data() + before),
                                             out.data.size() - before));
        if (actual != expected) return err(body, "CRC32C mismatch");
      }
    } else if (type >= 0x02 && type <= 0x7F) {
      return err(pos, "reserved unskippable chunk type " + std::to_string(type));
    }  // 0x80-0xFE: skippable (padding)
    pos = body + len;
  }
  out.consumed = pos;
  return out;
}

}  // namespace fsp::state
