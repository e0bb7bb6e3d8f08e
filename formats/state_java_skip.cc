// A bounded skipper for one Java Object Serialization stream, as written by
// Flink's InstantiationUtil.serializeObject inside some serializer snapshots
// (RowData/MapData/ArrayData logical types, ExternalSerializer data types,
// SortedMap comparators). It follows the grammar of the Java Object
// Serialization Specification, section 6.4, only far enough to know where the
// stream ends; values are not kept.
#include <string>
#include <vector>

#include "flink_savepoint/state_internal.h"

namespace fsp::state {
namespace {

constexpr uint8_t kNull = 0x70, kReference = 0x71, kClassDesc = 0x72, kObject = 0x73, kString = 0x74,
                  kArray = 0x75, kClass = 0x76, kBlockData = 0x77, kEndBlockData = 0x78,
                  kBlockDataLong = 0x7A, kLongString = 0x7C, kProxyClassDesc = 0x7D, kEnum = 0x7E;
constexpr uint8_t kWriteMethod = 0x01, kSerializable = 0x02, kExternalizable = 0x04, kBlockDataFlag = 0x08;
constexpr int32_t kBaseHandle = 0x7E0000;
constexpr size_t kMaxHandles = 1u << 20;

int primitive_size(char t) {
  switch (t) {
    case 'B': case 'Z': return 1;
    case 'C': case 'S': return 2;
    case 'I': case 'F': return 4;
    case 'J': case 'D': return 8;
    default: return 0;  // object
  }
}

struct Desc {
  std::string name;
  uint8_t flags = 0;
  std::string field_types;  // one type code per field
  int super = -1;           // desc index
};

class Skipper {
 public:
  explicit Skipper(ByteReader& r) : r_(r) {}

  bool object(int depth, std::string* cls) {
    if (depth > kMaxJavaDepth) return fail("Java serialization nested too deeply");
    uint8_t tc = r_.u8();
    if (!r_.ok()) return false;
    switch (tc) {
      case kNull:
        if (cls) *cls = "";
        return true;
      case kReference: {
        int32_t h = r_.i32() - kBaseHandle;
        if (!r_.ok()) return false;
        if (h < 0 || static_cast<size_t>(h) >= handles_.size()) return fail("bad Java back-reference");
        if (cls && handles_[h] >= 0) *cls = descs_[handles_[h]].name;
        return true;
      }
      case kString: {
        if (!new_handle(-1)) return false;
        (void)r_.utf();
        if (cls) *cls = "String";
        return r_.ok();
      }
      case kLongString: {
        if (!new_handle(-1)) return false;
        int64_t n = r_.i64();
        if (!r_.check_count(n, 1, "Java long string bytes")) return false;
        r_.skip(static_cast<size_t>(n));
        if (cls) *cls = "String";
        return r_.ok();
      }
      case kClassDesc:
      case kProxyClassDesc:
        return class_desc_after(tc, depth) != -2;
      case kClass: {
        int d = class_desc(depth + 1);
        if (d == -2) return false;
        if (cls) *cls = "Class";
        return new_handle(-1);
      }
      case kArray: {
        int d = class_desc(depth + 1);
        if (d == -2) return false;
        if (!new_handle(-1)) return false;
        int32_t n = r_.i32();
        if (!r_.ok()) return false;
        char et = (d >= 0 && descs_[d].name.size() > 1) ? descs_[d].name[1] : 'L';
        if (cls && d >= 0) *cls = descs_[d].name;
        int ps = primitive_size(et);
        if (ps > 0) {
          if (!r_.check_count(n, ps, "Java array elements")) return false;
          r_.skip(static_cast<size_t>(n) * ps);
          return r_.ok();
        }
        if (!r_.check_count(n, 1, "Java array elements")) return false;
        for (int32_t i = 0; i < n; ++i)
          if (!object(depth + 1, nullptr)) return false;
        return true;
      }
      case kEnum: {
        int d = class_desc(depth + 1);
        if (d == -2) return false;
        if (!new_handle(-1)) return false;
        if (cls && d >= 0) *cls = descs_[d].name;
        return object(depth + 1, nullptr);
      }
      case kObject: {
        int d = class_desc(depth + 1);
        if (d == -2) return false;
        if (d < 0) return fail("Java object without a class descriptor");
        if (!new_handle(-1)) return false;
        if (cls) *cls = descs_[d].name;
        std::vector<int> chain;
        for (int c = d; c >= 0; c = descs_[c].super) {
          chain.push_back(c);
          if (chain.size() > 256) return fail("Java class hierarchy too deep");
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          const Desc& desc = descs_[*it];
          if (desc.flags & kExternalizable) {
            if (!(desc.flags & kBlockDataFlag)) return fail("Java externalizable object in protocol 1 cannot be skipped");
            if (!annotation(depth + 1)) return false;
            continue;
          }
          if (desc.flags & kSerializable) {
            // Copy: descs_ may grow while reading fields.
            std::string types = desc.field_types;
            uint8_t flags = desc.flags;
            for (char t : types) {
              int ps = primitive_size(t);
              if (ps > 0) {
                r_.skip(ps);
                if (!r_.ok()) return false;
              } else if (!object(depth + 1, nullptr)) {
                return false;
              }
            }
            if ((flags & kWriteMethod) && !annotation(depth + 1)) return false;
          }
        }
        return true;
      }
      default:
        return fail("unsupported Java serialization type code " + std::to_string(tc));
    }
  }

 private:
  bool fail(const std::string& m) {
    r_.fail(m);
    return false;
  }
  bool new_handle(int desc) {
    if (handles_.size() >= kMaxHandles) return fail("too many Java handles");
    handles_.push_back(desc);
    return true;
  }
  // Returns a desc index, -1 for null, -2 on error.
  int class_desc(int depth) {
    uint8_t tc = r_.u8();
    if (!r_.ok()) return -2;
    return class_desc_after(tc, depth);
  }
  int class_desc_after(uint8_t tc, int depth) {
    if (depth > kMaxJavaDepth) {
      fail("Java serialization nested too deeply");
      return -2;
    }
    switch (tc) {
      case kNull:
        return -1;
      case kReference: {
        int32_t h = r_.i32() - kBaseHandle;
        if (!r_.ok()) return -2;
        if (h < 0 || static_cast<size_t>(h) >= handles_.size() || handles_[h] < 0) {
          fail("bad Java class descriptor reference");
          return -2;
        }
        return handles_[h];
      }
      case kClassDesc: {
        Desc d;
        d.name = std::string(r_.utf());
        r_.skip(8);  // serialVersionUID
        if (!r_.ok()) return -2;
        int idx = static_cast<int>(descs_.size());
        descs_.push_back(d);
        if (!new_handle(idx)) return -2;
        uint8_t flags = r_.u8();
        int16_t n = r_.i16();
        if (!r_.check_count(n, 3, "Java class fields")) return -2;
        std::string types;
        for (int i = 0; i < n; ++i) {
          char t = static_cast<char>(r_.u8());
          (void)r_.utf();
          if (!r_.ok()) return -2;
          if (t == 'L' || t == '[') {
            if (!object(depth + 1, nullptr)) return -2;
          } else if (primitive_size(t) == 0) {
            fail(std::string("bad Java field type code ") + t);
            return -2;
          }
          types.push_back(t);
        }
        if (!annotation(depth + 1)) return -2;
        int super = class_desc(depth + 1);
        if (super == -2) return -2;
        descs_[idx].flags = flags;
        descs_[idx].field_types = std::move(types);
        descs_[idx].super = super;
        return idx;
      }
      case kProxyClassDesc: {
        int idx = static_cast<int>(descs_.size());
        descs_.push_back(Desc{"Proxy", kSerializable, "", -1});
        if (!new_handle(idx)) return -2;
        int32_t n = r_.i32();
        if (!r_.check_count(n, 2, "proxy interfaces")) return -2;
        for (int i = 0; i < n; ++i) (void)r_.utf();
        if (!annotation(depth + 1)) return -2;
        int super = class_desc(depth + 1);
        if (super == -2) return -2;
        descs_[idx].super = super;
        return idx;
      }
      default:
        fail("expected a Java class descriptor, found type code " + std::to_string(tc));
        return -2;
    }
  }
  // Contents until TC_ENDBLOCKDATA.
  bool annotation(int depth) {
    for (;;) {
      if (!r_.ok()) return false;
      if (r_.at_end()) return fail("unexpected end of Java annotation");
      uint8_t tc = r_.data()[r_.pos()];
      if (tc == kEndBlockData) {
        r_.skip(1);
        return r_.ok();
      }
      if (tc == kBlockData) {
        r_.skip(1);
        uint8_t n = r_.u8();
        r_.skip(n);
      } else if (tc == kBlockDataLong) {
        r_.skip(1);
        int32_t n = r_.i32();
        if (!r_.check_count(n, 1, "Java block data")) return false;
        r_.skip(static_cast<size_t>(n));
      } else if (!object(depth + 1, nullptr)) {
        return false;
      }
    }
  }

  ByteReader& r_;
  std::vector<int> handles_;
  std::vector<Desc> descs_;
};

}  // namespace

std::optional<std::string> skip_java_object(ByteReader& r) {
  if (r.u16() != 0xACED || r.u16() != 0x0005) {
    if (r.ok()) r.fail_at(r.pos() >= 4 ? r.pos() - 4 : 0, "expected a Java serialization stream (AC ED 00 05)");
    return std::nullopt;
  }
  Skipper s(r);
  std::string cls;
  if (!s.object(0, &cls) || !r.ok()) return std::nullopt;
  return cls;
}

}  // namespace fsp::state
