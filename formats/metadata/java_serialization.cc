// A bounded reader for the Java Object Serialization Stream Protocol
// (https://docs.oracle.com/javase/8/docs/platform/serialization/spec/protocol.html),
// following the grammar of section 6.4 and the checks of java.io.ObjectInputStream.
//
// Untrusted input: every read goes through ByteReader (bounds checked, sticky
// error), every count is checked against the bytes that remain before anything
// is allocated, nesting is capped, and so are the number of handles and the
// size of the value tree (back-references copy values, which could otherwise
// blow up exponentially).
#include "flink_savepoint/java_serialization.h"

#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "flink_savepoint/byte_reader.h"
#include "flink_savepoint/modified_utf8.h"

namespace fsp {
namespace {

// A length or count larger than what remains: ObjectInputStream reports a
// StreamCorruptedException for it, not an EOFException, so these are corrupt
// (kTruncated is kept for reads that run out of bytes; see the decoder).
constexpr ErrorKind kCountPastEnd = ErrorKind::kCorrupt;

// java.io.ObjectStreamConstants
constexpr uint16_t kStreamMagic = 0xACED;
constexpr uint16_t kStreamVersion = 5;
constexpr uint8_t TC_NULL = 0x70;
constexpr uint8_t TC_REFERENCE = 0x71;
constexpr uint8_t TC_CLASSDESC = 0x72;
constexpr uint8_t TC_OBJECT = 0x73;
constexpr uint8_t TC_STRING = 0x74;
constexpr uint8_t TC_ARRAY = 0x75;
constexpr uint8_t TC_CLASS = 0x76;
constexpr uint8_t TC_BLOCKDATA = 0x77;
constexpr uint8_t TC_ENDBLOCKDATA = 0x78;
constexpr uint8_t TC_RESET = 0x79;
constexpr uint8_t TC_BLOCKDATALONG = 0x7A;
constexpr uint8_t TC_EXCEPTION = 0x7B;
constexpr uint8_t TC_LONGSTRING = 0x7C;
constexpr uint8_t TC_PROXYCLASSDESC = 0x7D;
constexpr uint8_t TC_ENUM = 0x7E;
constexpr uint32_t kBaseWireHandle = 0x7E0000;

constexpr uint8_t SC_WRITE_METHOD = 0x01;
constexpr uint8_t SC_SERIALIZABLE = 0x02;
constexpr uint8_t SC_EXTERNALIZABLE = 0x04;
constexpr uint8_t SC_BLOCK_DATA = 0x08;
constexpr uint8_t SC_ENUM = 0x10;

// Limits for hostile input. A real CheckpointProperties stream is ~750 bytes
// with 14 handles and nesting depth 4.
constexpr int kMaxDepth = 64;                     // nested contents (objects, arrays, class descriptors)
constexpr size_t kMaxHandles = 1u << 16;          // objects, strings, class descriptors
constexpr size_t kMaxHierarchy = 64;              // classes in one class hierarchy
constexpr uint64_t kMaxValueBytes = 64u << 20;    // approximate memory of all JavaValues built

constexpr const char* kWhere = "checkpoint properties";

class Where final : public ErrorContext {
 public:
  std::string describe() const override { return kWhere; }
};

struct FieldDesc {
  char type = 0;           // B C D F I J S Z L [
  std::string name;        // UTF-8
  std::string signature;   // object fields: JVM type signature, e.g. Ljava/lang/String;
};

struct ClassDesc {
  std::string name;        // UTF-8, e.g. org.apache.flink.runtime.checkpoint.CheckpointProperties
  uint64_t suid = 0;
  uint8_t flags = 0;
  bool proxy = false;
  std::vector<FieldDesc> fields;
  std::shared_ptr<const ClassDesc> super;  // null for the topmost serializable class
  size_t hierarchy = 1;    // number of classes from this one up
  bool complete = false;   // set once classDescInfo (with the superclass) is read
};

struct Handle {
  std::shared_ptr<ClassDesc> desc;    // a class descriptor, or
  std::shared_ptr<JavaValue> value;   // a string, enum constant, object, array or class
  bool complete = false;              // objects/arrays: all their contents have been read
  uint64_t weight = 0;                // approximate bytes of the value tree (when complete)
  int height = 0;                     // nesting height of the value tree (when complete)
};

const char* primitive_name(char t) {
  switch (t) {
    case 'B': return "byte";
    case 'C': return "char";
    case 'D': return "double";
    case 'F': return "float";
    case 'I': return "int";
    case 'J': return "long";
    case 'S': return "short";
    case 'Z': return "boolean";
    default: return nullptr;
  }
}

size_t primitive_size(char t) {
  switch (t) {
    case 'B': case 'Z': return 1;
    case 'C': case 'S': return 2;
    case 'I': case 'F': return 4;
    case 'J': case 'D': return 8;
    default: return 0;
  }
}

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", b);
  return buf;
}

std::string handle_text(uint32_t h) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%06X", h);
  return buf;
}

class Parser {
 public:
  Parser(std::string_view bytes, uint64_t base_offset) : r_(bytes, base_offset) { r_.set_context(&where_); }

  Result<JavaValue> run() {
    size_t magic_pos = r_.pos();
    uint16_t magic = r_.u16();
    if (r_.ok() && magic != kStreamMagic) {
      r_.fail_at(magic_pos, "not a Java serialization stream: expected magic AC ED, found " +
                                hex_byte(static_cast<uint8_t>(magic >> 8)) + " " + hex_byte(static_cast<uint8_t>(magic)));
    }
    size_t version_pos = r_.pos();
    uint16_t version = r_.u16();
    if (r_.ok() && version != kStreamVersion) {
      r_.fail_at(version_pos, "unsupported Java serialization stream version " + std::to_string(version) + " (expected 5)");
    }
    JavaValue v = read_content(0, false);
    if (!r_.ok()) return r_.take_error();
    return v;
  }

  size_t pos() const { return r_.pos(); }

 private:
  // ---- handles -----------------------------------------------------------

  // Assigns the next wire handle; returns its index or SIZE_MAX on failure.
  size_t new_handle(Handle h) {
    if (handles_.size() >= kMaxHandles) {
      r_.fail("too many objects in the stream (more than " + std::to_string(kMaxHandles) + " handles)");
      return SIZE_MAX;
    }
    handles_.push_back(std::move(h));
    return handles_.size() - 1;
  }

  // Reads the 4-byte handle after TC_REFERENCE; nullptr on failure.
  Handle* read_reference() {
    size_t pos = r_.pos();
    uint32_t h = static_cast<uint32_t>(r_.i32());
    if (!r_.ok()) return nullptr;
    if (h < kBaseWireHandle || h - kBaseWireHandle >= handles_.size()) {
      r_.fail_at(pos, "invalid back-reference " + handle_text(h) + " (" + std::to_string(handles_.size()) +
                          " handles assigned so far)");
      return nullptr;
    }
    return &handles_[h - kBaseWireHandle];
  }

  // ---- budget ------------------------------------------------------------

  bool charge(uint64_t bytes) {
    used_ += bytes;
    if (used_ > kMaxValueBytes) {
      r_.fail("the values in the stream are too large (over " + std::to_string(kMaxValueBytes >> 20) +
              " MiB when back-references are expanded)");
      return false;
    }
    return true;
  }
  static uint64_t node_cost(const JavaValue& v) { return sizeof(JavaValue) + v.text.size() + v.class_name.size(); }

  // Size and nesting height of a finished tree. Trees are at most kMaxDepth
  // deep (read_content enforces it, also through back-references), so the
  // recursion is bounded.
  static void measure(const JavaValue& v, uint64_t& weight, int& height) {
    weight = node_cost(v) + v.fields.size() * 64;  // map node overhead, roughly
    height = 0;
    for (const auto& [k, f] : v.fields) {
      uint64_t w;
      int h;
      measure(f, w, h);
      weight += w + k.size();
      height = std::max(height, h + 1);
    }
    for (const auto& e : v.elements) {
      uint64_t w;
      int h;
      measure(e, w, h);
      weight += w;
      height = std::max(height, h + 1);
    }
  }

  // Marks an object/array/enum handle as finished and returns a copy of its
  // value for the caller, charging the copy to the budget.
  JavaValue finish(size_t idx) {
    Handle& h = handles_[idx];
    h.complete = true;
    measure(*h.value, h.weight, h.height);
    if (!charge(h.weight)) return {};
    return *h.value;
  }

  // ---- strings -----------------------------------------------------------

  // After TC_STRING / TC_LONGSTRING: the modified UTF-8 bytes.
  std::string_view read_string_bytes(uint8_t tc) {
    if (tc == TC_STRING) return r_.utf();
    size_t pos = r_.pos();
    int64_t n = r_.i64();
    if (!r_.ok()) return {};
    if (n < 0 || static_cast<uint64_t>(n) > r_.remaining()) {
      r_.fail_at(pos, "long string length " + std::to_string(n) + " exceeds the " + std::to_string(r_.remaining()) +
                          " bytes that remain");
      return {};
    }
    return r_.bytes(static_cast<size_t>(n), "long string bytes");
  }

  // newString after its type code; returns the handle index.
  size_t read_new_string(uint8_t tc) {
    std::string_view raw = read_string_bytes(tc);
    if (!r_.ok()) return SIZE_MAX;
    auto v = std::make_shared<JavaValue>();
    v->kind = JavaValue::Kind::kString;
    v->class_name = "java.lang.String";
    v->text = modified_utf8_to_utf8(raw);
    Handle h;
    h.weight = node_cost(*v);
    h.value = std::move(v);
    h.complete = true;
    if (!charge(h.weight)) return SIZE_MAX;
    return new_handle(std::move(h));
  }

  // A string where only a string may stand (field type signatures, enum
  // constant names): TC_STRING, TC_LONGSTRING or a reference to a string.
  // (ObjectInputStream.readTypeString also takes TC_NULL, which is no valid
  // field signature, and readEnum takes only new strings; both are rejected
  // resp. relaxed here.)
  bool read_type_string(std::string& out, const char* what) {
    size_t pos = r_.pos();
    uint8_t tc = r_.u8();
    if (!r_.ok()) return false;
    switch (tc) {
      case TC_STRING:
      case TC_LONGSTRING: {
        size_t idx = read_new_string(tc);
        if (idx == SIZE_MAX) return false;
        out = handles_[idx].value->text;
        return charge(out.size());
      }
      case TC_REFERENCE: {
        Handle* h = read_reference();
        if (!h) return false;
        if (!h->value || h->value->kind != JavaValue::Kind::kString) {
          r_.fail_at(pos, std::string("back-reference for ") + what + " does not point to a string");
          return false;
        }
        out = h->value->text;
        return charge(out.size());  // a reference can copy a long string cheaply
      }
      default:
        r_.fail_at(pos, std::string("expected a string for ") + what + ", found type code " + hex_byte(tc));
        return false;
    }
  }

  // ---- class descriptors -------------------------------------------------

  // classDesc: newClassDesc | nullReference | (ClassDesc)prevObject.
  // Returns null (without failing) for TC_NULL; check r_.ok().
  // The class descriptor of a class object, enum constant, object or array:
  // null is an error there. nullptr after any failure.
  std::shared_ptr<const ClassDesc> read_required_desc(size_t pos, int depth, const char* what) {
    auto desc = read_class_desc(depth + 1);
    if (r_.ok() && !desc) r_.fail_at(pos, std::string(what) + " with a null class descriptor");
    return r_.ok() ? desc : nullptr;
  }

  std::shared_ptr<const ClassDesc> read_class_desc(int depth) {
    if (depth > kMaxDepth) {
      r_.fail("nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)");
      return nullptr;
    }
    size_t pos = r_.pos();
    uint8_t tc = r_.u8();
    if (!r_.ok()) return nullptr;
    switch (tc) {
      case TC_NULL:
        return nullptr;
      case TC_REFERENCE: {
        Handle* h = read_reference();
        if (!h) return nullptr;
        if (!h->desc) {
          r_.fail_at(pos, "back-reference where a class descriptor is expected does not point to one");
          return nullptr;
        }
        if (!h->desc->complete) {
          r_.fail_at(pos, "class descriptor " + h->desc->name + " refers to itself");
          return nullptr;
        }
        return h->desc;
      }
      case TC_CLASSDESC:
        return read_new_class_desc(depth, false);
      case TC_PROXYCLASSDESC:
        return read_new_class_desc(depth, true);
      default:
        r_.fail_at(pos, "expected a class descriptor, found type code " + hex_byte(tc));
        return nullptr;
    }
  }

  std::shared_ptr<const ClassDesc> read_new_class_desc(int depth, bool proxy) {
    auto desc = std::make_shared<ClassDesc>();
    desc->proxy = proxy;
    if (!proxy) {
      // TC_CLASSDESC className serialVersionUID newHandle classDescInfo
      desc->name = modified_utf8_to_utf8(r_.utf());
      desc->suid = static_cast<uint64_t>(r_.i64());
    } else {
      desc->name = "(proxy)";
      desc->flags = SC_SERIALIZABLE;
    }
    if (!r_.ok()) return nullptr;
    Handle h;
    h.desc = desc;
    if (new_handle(std::move(h)) == SIZE_MAX) return nullptr;

    if (proxy) {
      // proxyClassDescInfo: (int)count proxyInterfaceName[count] classAnnotation superClassDesc
      int32_t n = r_.i32();
      if (!r_.check_count(n, 2, "proxy interface names", kCountPastEnd)) return nullptr;
      std::string names;
      for (int32_t i = 0; i < n && r_.ok(); ++i) {
        std::string iface = modified_utf8_to_utf8(r_.utf());
        if (!names.empty()) names += ", ";
        names += iface;
      }
      if (!r_.ok()) return nullptr;
      desc->name = "(proxy implementing " + names + ")";
    } else {
      // classDescInfo: classDescFlags fields classAnnotation superClassDesc
      size_t flags_pos = r_.pos();
      desc->flags = r_.u8();
      if (!r_.ok()) return nullptr;
      if ((desc->flags & SC_SERIALIZABLE) && (desc->flags & SC_EXTERNALIZABLE)) {
        r_.fail_at(flags_pos, "class " + desc->name + ": serializable and externalizable flags conflict");
        return nullptr;
      }
      size_t count_pos = r_.pos();
      int16_t n = r_.i16();
      if (!r_.ok()) return nullptr;
      if (n < 0 || static_cast<size_t>(n) > r_.remaining() / 3) {
        r_.fail_at(count_pos, "class " + desc->name + ": invalid field count " + std::to_string(n) + " (" +
                                  std::to_string(r_.remaining()) + " bytes remain)");
        return nullptr;
      }
      desc->fields.reserve(static_cast<size_t>(n));
      for (int16_t i = 0; i < n && r_.ok(); ++i) {
        FieldDesc f;
        size_t code_pos = r_.pos();
        f.type = static_cast<char>(r_.u8());
        f.name = modified_utf8_to_utf8(r_.utf());
        if (!r_.ok()) return nullptr;
        if (f.type == 'L' || f.type == '[') {
          if (!read_type_string(f.signature, "a field type")) return nullptr;
          if (f.signature.empty() || (f.signature[0] != 'L' && f.signature[0] != '[')) {
            r_.fail_at(code_pos, "class " + desc->name + ", field " + f.name + ": illegal type signature \"" +
                                     f.signature + "\"");
            return nullptr;
          }
        } else if (!primitive_name(f.type)) {
          r_.fail_at(code_pos, "class " + desc->name + ", field " + f.name + ": illegal field type code " +
                                   hex_byte(static_cast<uint8_t>(f.type)));
          return nullptr;
        }
        desc->fields.push_back(std::move(f));
      }
      if (!r_.ok()) return nullptr;
    }

    // classAnnotation: endBlockData | contents endBlockData (what annotateClass wrote; dropped)
    JavaValue ignored;
    read_annotation(depth + 1, ignored);
    if (!r_.ok()) return nullptr;

    size_t super_pos = r_.pos();
    auto super = read_class_desc(depth + 1);
    if (!r_.ok()) return nullptr;
    if (super) {
      if (super->hierarchy >= kMaxHierarchy) {
        r_.fail_at(super_pos, "class hierarchy of " + desc->name + " is too deep (over " +
                                  std::to_string(kMaxHierarchy) + " classes)");
        return nullptr;
      }
      desc->hierarchy = super->hierarchy + 1;
    }
    desc->super = std::move(super);
    desc->complete = true;
    return desc;
  }

  // ---- contents ----------------------------------------------------------

  // Reads contents up to and including TC_ENDBLOCKDATA (classAnnotation,
  // objectAnnotation). Objects and block data are appended to out.elements.
  void read_annotation(int depth, JavaValue& out) {
    for (;;) {
      if (!r_.ok()) return;
      if (r_.at_end()) {
        r_.fail_at(r_.pos(), "unexpected end of data: expected TC_ENDBLOCKDATA", ErrorKind::kTruncated);
        return;
      }
      if (r_.data()[r_.pos()] == TC_ENDBLOCKDATA) {
        r_.skip(1);
        return;
      }
      JavaValue v = read_content(depth, true);
      if (!r_.ok()) return;
      out.elements.push_back(std::move(v));
    }
  }

  // content: object | blockdata (the latter only when allow_block_data).
  JavaValue read_content(int depth, bool allow_block_data) {
    JavaValue v;
    if (depth > kMaxDepth) {
      r_.fail("nesting too deep (more than " + std::to_string(kMaxDepth) + " levels)");
      return v;
    }
    for (;;) {
      size_t pos = r_.pos();
      uint8_t tc = r_.u8();
      if (!r_.ok()) return v;
      switch (tc) {
        case TC_RESET:
          // As ObjectInputStream: allowed between top-level objects only.
          if (depth > 0) {
            r_.fail_at(pos, "unexpected TC_RESET inside an object");
            return v;
          }
          handles_.clear();
          continue;
        case TC_NULL:
          v.kind = JavaValue::Kind::kNull;
          charge(node_cost(v));
          return v;
        case TC_REFERENCE: {
          Handle* h = read_reference();
          if (!h) return v;
          if (h->desc) {
            // A class descriptor read as an object (ObjectStreamClass).
            v.kind = JavaValue::Kind::kOther;
            v.class_name = "java.io.ObjectStreamClass";
            v.text = h->desc->name;
            charge(node_cost(v));
            return v;
          }
          if (!h->complete) {
            // A cycle back into an object still being read: not expanded.
            v.kind = JavaValue::Kind::kOther;
            v.class_name = h->value->class_name;
            v.text = "(cyclic reference)";
            charge(node_cost(v));
            return v;
          }
          if (depth + h->height > kMaxDepth) {
            r_.fail_at(pos, "nesting too deep (more than " + std::to_string(kMaxDepth) +
                                " levels, through a back-reference)");
            return v;
          }
          if (!charge(h->weight)) return v;
          return *h->value;
        }
        case TC_STRING:
        case TC_LONGSTRING: {
          size_t idx = read_new_string(tc);
          if (idx == SIZE_MAX) return v;
          charge(handles_[idx].weight);
          return *handles_[idx].value;
        }
        case TC_CLASSDESC:
        case TC_PROXYCLASSDESC: {
          auto desc = read_new_class_desc(depth, tc == TC_PROXYCLASSDESC);
          if (!desc) return v;
          v.kind = JavaValue::Kind::kOther;
          v.class_name = "java.io.ObjectStreamClass";
          v.text = desc->name;
          charge(node_cost(v));
          return v;
        }
        case TC_CLASS: {
          // TC_CLASS classDesc newHandle
          auto desc = read_required_desc(pos, depth, "class object");
          if (!desc) return v;
          v.kind = JavaValue::Kind::kOther;
          v.class_name = "java.lang.Class";
          v.text = desc->name;
          Handle h;
          h.value = std::make_shared<JavaValue>(v);
          h.complete = true;
          h.weight = node_cost(v);
          if (new_handle(std::move(h)) == SIZE_MAX) return v;
          charge(node_cost(v));
          return v;
        }
        case TC_ENUM:
          return read_enum(pos, depth);
        case TC_OBJECT:
          return read_object(pos, depth);
        case TC_ARRAY:
          return read_array(pos, depth);
        case TC_BLOCKDATA:
        case TC_BLOCKDATALONG: {
          if (!allow_block_data) {
            r_.fail_at(pos, "unexpected block data where an object is expected");
            return v;
          }
          size_t n;
          if (tc == TC_BLOCKDATA) {
            n = r_.u8();
          } else {
            int32_t len = r_.i32();
            if (!r_.check_count(len, 1, "block data bytes", kCountPastEnd)) return v;
            n = static_cast<size_t>(len);
          }
          std::string_view data = r_.bytes(n, "block data");
          if (!r_.ok()) return v;
          v.kind = JavaValue::Kind::kOther;
          v.class_name = "(block data)";
          v.text.assign(data.data(), data.size());  // raw bytes
          charge(node_cost(v));
          return v;
        }
        case TC_ENDBLOCKDATA:
          r_.fail_at(pos, "unexpected TC_ENDBLOCKDATA where an object is expected");
          return v;
        case TC_EXCEPTION:
          r_.fail_unsupported_at(pos, "unsupported: the stream contains an exception written while serializing (TC_EXCEPTION)");
          return v;
        default:
          r_.fail_at(pos, "invalid type code " + hex_byte(tc));
          return v;
      }
    }
  }

  // newEnum: TC_ENUM classDesc newHandle enumConstantName
  JavaValue read_enum(size_t pos, int depth) {
    JavaValue v;
    auto desc = read_required_desc(pos, depth, "enum constant");
    if (!desc) return v;
    if (!(desc->flags & SC_ENUM)) {
      r_.fail_at(pos, "enum constant of a non-enum class " + desc->name);
      return v;
    }
    auto value = std::make_shared<JavaValue>();
    value->kind = JavaValue::Kind::kEnum;
    value->class_name = desc->name;
    Handle h;
    h.value = value;
    size_t idx = new_handle(std::move(h));
    if (idx == SIZE_MAX) return v;
    std::string name;
    if (!read_type_string(name, "an enum constant name")) return v;
    value->text = std::move(name);
    return finish(idx);
  }

  // newObject: TC_OBJECT classDesc newHandle classdata[]
  JavaValue read_object(size_t pos, int depth) {
    JavaValue v;
    auto desc = read_required_desc(pos, depth, "object");
    if (!desc) return v;
    if (desc->flags & SC_ENUM) {
      r_.fail_at(pos, "enum class " + desc->name + " written as an ordinary object");
      return v;
    }
    auto value = std::make_shared<JavaValue>();
    value->kind = JavaValue::Kind::kObject;
    value->class_name = desc->name;
    Handle h;
    h.value = value;
    size_t idx = new_handle(std::move(h));
    if (idx == SIZE_MAX) return v;
    if (!charge(node_cost(*value))) return v;

    // classdata[]: one entry per serializable class, topmost superclass first.
    std::vector<const ClassDesc*> chain;
    for (const ClassDesc* c = desc.get(); c; c = c->super.get()) chain.push_back(c);
    for (auto it = chain.rbegin(); it != chain.rend() && r_.ok(); ++it) {
      const ClassDesc& c = **it;
      if (c.flags & SC_EXTERNALIZABLE) {
        if (!(c.flags & SC_BLOCK_DATA)) {
          r_.fail_unsupported_at(pos, "unsupported: externalizable class " + c.name +
                              " written without block data (stream protocol version 1)");
          return v;
        }
        read_annotation(depth + 1, *value);  // externalContents in block data, up to TC_ENDBLOCKDATA
      } else if (c.flags & SC_SERIALIZABLE) {
        read_field_values(c, depth + 1, *value);
        if (c.flags & SC_WRITE_METHOD) read_annotation(depth + 1, *value);  // writeObject's extra data
      }
      // Neither flag: a class without data in the stream.
    }
    if (!r_.ok()) return v;
    return finish(idx);
  }

  void read_field_values(const ClassDesc& c, int depth, JavaValue& obj) {
    for (const FieldDesc& f : c.fields) {
      if (!r_.ok()) return;
      JavaValue fv;
      if (f.type == 'L' || f.type == '[') {
        fv = read_content(depth, false);
      } else {
        fv = read_primitive(f.type);
        charge(node_cost(fv));
      }
      if (!r_.ok()) return;
      std::string key = f.name;
      if (obj.fields.count(key)) {
        // A field shadowing one of a superclass: qualify it with its class.
        size_t dot = c.name.rfind('.');
        key = (dot == std::string::npos ? c.name : c.name.substr(dot + 1)) + "." + f.name;
      }
      obj.fields[key] = std::move(fv);
    }
  }

  JavaValue read_primitive(char type) {
    JavaValue v;
    v.kind = JavaValue::Kind::kPrimitive;
    v.class_name = primitive_name(type);
    char buf[64];
    switch (type) {
      case 'B': v.text = std::to_string(r_.i8()); break;
      case 'Z': v.text = r_.u8() != 0 ? "true" : "false"; break;
      case 'S': v.text = std::to_string(r_.i16()); break;
      case 'I': v.text = std::to_string(r_.i32()); break;
      case 'J': v.text = std::to_string(r_.i64()); break;
      case 'C': {
        uint16_t c = r_.u16();
        // One UTF-16 code unit; lone surrogates become U+FFFD.
        char m[3];
        m[0] = static_cast<char>(0xE0 | (c >> 12));
        m[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        m[2] = static_cast<char>(0x80 | (c & 0x3F));
        v.text = modified_utf8_to_utf8(std::string_view(m, 3));
        break;
      }
      case 'F': {
        uint32_t bits = static_cast<uint32_t>(r_.i32());
        float f;
        std::memcpy(&f, &bits, sizeof f);
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
        v.text = buf;
        break;
      }
      case 'D': {
        uint64_t bits = static_cast<uint64_t>(r_.i64());
        double d;
        std::memcpy(&d, &bits, sizeof d);
        std::snprintf(buf, sizeof buf, "%.17g", d);
        v.text = buf;
        break;
      }
      default: break;  // not reached: type codes are validated with the class descriptor
    }
    return v;
  }

  // newArray: TC_ARRAY classDesc newHandle (int)size values[size]
  JavaValue read_array(size_t pos, int depth) {
    JavaValue v;
    auto desc = read_required_desc(pos, depth, "array");
    if (!desc) return v;
    const std::string& name = desc->name;
    char elem = name.size() >= 2 && name[0] == '[' ? name[1] : 0;
    bool object_elements = elem == 'L' || elem == '[';
    if (!object_elements && !primitive_name(elem)) {
      r_.fail_at(pos, "array class descriptor with a non-array class name \"" + name + "\"");
      return v;
    }
    auto value = std::make_shared<JavaValue>();
    value->kind = JavaValue::Kind::kArray;
    value->class_name = name;
    Handle h;
    h.value = value;
    size_t idx = new_handle(std::move(h));
    if (idx == SIZE_MAX) return v;
    if (!charge(node_cost(*value))) return v;

    int32_t n = r_.i32();
    if (!r_.check_count(n, object_elements ? 1 : primitive_size(elem), "array elements", kCountPastEnd)) return v;
    // Each element costs at least a JavaValue: charge before allocating.
    if (!charge(static_cast<uint64_t>(n) * sizeof(JavaValue))) return v;
    value->elements.reserve(static_cast<size_t>(n));
    for (int32_t i = 0; i < n && r_.ok(); ++i) {
      if (object_elements) {
        value->elements.push_back(read_content(depth + 1, false));
      } else {
        value->elements.push_back(read_primitive(elem));
        charge(value->elements.back().text.size() + value->elements.back().class_name.size());
      }
    }
    if (!r_.ok()) return v;
    return finish(idx);
  }

  Where where_;
  ByteReader r_;
  std::vector<Handle> handles_;
  uint64_t used_ = 0;
};

// ---- CheckpointProperties ------------------------------------------------

constexpr const char* kPropertiesClass = "org.apache.flink.runtime.checkpoint.CheckpointProperties";
constexpr const char* kCheckpointTypeClass = "org.apache.flink.runtime.checkpoint.CheckpointType";
constexpr const char* kSavepointTypeClass = "org.apache.flink.runtime.checkpoint.SavepointType";

std::string simple_name(const std::string& cls) {
  size_t dot = cls.rfind('.');
  return dot == std::string::npos ? cls : cls.substr(dot + 1);
}

// Interprets the parsed tree; returns an empty string or what is wrong.
std::string interpret(const JavaValue& v, SnapshotProperties& p) {
  if (v.kind != JavaValue::Kind::kObject || v.class_name != kPropertiesClass) {
    return "expected a " + std::string(kPropertiesClass) + " object, found " +
           (v.kind == JavaValue::Kind::kObject ? "an object of class " + v.class_name : "another kind of value");
  }
  // Booleans a class version may lack default to false, as in Java.
  struct B { const char* name; bool* out; };
  for (B b : {B{"forced", &p.forced}, B{"discardSubsumed", &p.discard_subsumed},
              B{"discardFinished", &p.discard_finished}, B{"discardCancelled", &p.discard_cancelled},
              B{"discardFailed", &p.discard_failed}, B{"discardSuspended", &p.discard_suspended},
              B{"unclaimed", &p.unclaimed}}) {
    auto it = v.fields.find(b.name);
    if (it == v.fields.end()) continue;
    if (it->second.kind != JavaValue::Kind::kPrimitive || it->second.class_name != "boolean") {
      return std::string("field ") + b.name + " is not a boolean";
    }
    *b.out = it->second.text == "true";
  }
  auto ct = v.fields.find("checkpointType");
  if (ct == v.fields.end()) return "no checkpointType field";
  const JavaValue& t = ct->second;
  if (t.kind == JavaValue::Kind::kNull) return "checkpointType is null";
  if (t.kind != JavaValue::Kind::kObject || (t.class_name != kCheckpointTypeClass && t.class_name != kSavepointTypeClass)) {
    return "unknown checkpointType class " + (t.class_name.empty() ? std::string("(none)") : t.class_name);
  }
  p.type_class = simple_name(t.class_name);

  auto text_field = [&](const char* name, JavaValue::Kind kind, std::string& out) -> std::string {
    auto it = t.fields.find(name);
    if (it == t.fields.end()) return p.type_class + " has no field " + name;
    if (it->second.kind == JavaValue::Kind::kNull) return {};  // null: left empty
    if (it->second.kind != kind) {
      return p.type_class + "." + name + (kind == JavaValue::Kind::kString ? " is not a string" : " is not an enum constant");
    }
    out = it->second.text;
    return {};
  };
  std::string err = text_field("name", JavaValue::Kind::kString, p.name);
  if (err.empty()) {
    if (p.type_class == "CheckpointType") {
      err = text_field("sharingFilesStrategy", JavaValue::Kind::kEnum, p.sharing_strategy);
    } else {
      err = text_field("formatType", JavaValue::Kind::kEnum, p.format_type);
      if (err.empty()) err = text_field("postCheckpointAction", JavaValue::Kind::kEnum, p.post_checkpoint_action);
    }
  }
  return err;
}

}  // namespace

Result<JavaValue> parse_java_object(std::string_view bytes, uint64_t base_offset, size_t* consumed) {
  Parser parser(bytes, base_offset);
  auto v = parser.run();
  if (consumed) *consumed = parser.pos();
  return v;
}

SnapshotProperties parse_checkpoint_properties(std::string_view trailer, uint64_t base_offset) {
  SnapshotProperties p;
  p.present = true;
  auto v = parse_java_object(trailer, base_offset);
  if (!v.ok()) {
    p.parse_error = v.error().to_string();
    return p;
  }
  if (v->kind == JavaValue::Kind::kNull) {  // the State Processor API writes null
    p.present = false;
    p.parsed = true;
    return p;
  }
  std::string err = interpret(*v, p);
  if (!err.empty()) {
    SnapshotProperties failed;
    failed.present = true;
    failed.parse_error = Error::data(err, base_offset, kWhere).to_string();
    return failed;
  }
  p.parsed = true;
  return p;
}

}  // namespace fsp
