// Writer side of the CheckpointProperties trailer: a minimal Java Object
// Serialization Stream writer for the few Flink classes involved.
#include <map>
#include <string>
#include <vector>

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/java_serialization.h"

namespace fsp {
namespace {

constexpr uint8_t TC_NULL = 0x70, TC_REFERENCE = 0x71, TC_CLASSDESC = 0x72, TC_OBJECT = 0x73, TC_STRING = 0x74,
                  TC_ENDBLOCKDATA = 0x78, TC_ENUM = 0x7E;
constexpr uint8_t SC_SERIALIZABLE = 0x02, SC_ENUM = 0x10;
constexpr int32_t kBaseHandle = 0x7E0000;

const char* kPkg = "org.apache.flink.runtime.checkpoint.";

struct Field {
  char type;  // 'Z' or 'L'
  std::string name;
  std::string signature;  // for 'L'
};

class StreamWriter {
 public:
  explicit StreamWriter(std::string& out) : w_(out) {
    w_.u16(0xACED);
    w_.u16(5);
  }

  void null() { w_.u8(TC_NULL); }

  // A class descriptor; written once, referenced afterwards.
  void class_desc(const std::string& name, int64_t suid, uint8_t flags, const std::vector<Field>& fields,
                  void (StreamWriter::*super)() = nullptr) {
    if (auto it = handles_.find("class:" + name); it != handles_.end()) {
      reference(it->second);
      return;
    }
    w_.u8(TC_CLASSDESC);
    w_.utf(name);
    w_.i64(suid);
    handles_["class:" + name] = next_++;
    w_.u8(flags);
    w_.u16(static_cast<uint16_t>(fields.size()));
    for (const auto& f : fields) {
      w_.u8(static_cast<uint8_t>(f.type));
      w_.utf(f.name);
      if (f.type == 'L' || f.type == '[') signature(f.signature);
    }
    w_.u8(TC_ENDBLOCKDATA);  // no class annotation
    if (super) (this->*super)();
    else null();
  }

  // Field type strings are interned by the JVM, so repeats are references.
  void signature(const std::string& s) {
    if (auto it = handles_.find("sig:" + s); it != handles_.end()) {
      reference(it->second);
      return;
    }
    handles_["sig:" + s] = next_++;
    w_.u8(TC_STRING);
    w_.utf(s);
  }

  void string(const std::string& s) {
    w_.u8(TC_STRING);
    ++next_;
    w_.utf(s);
  }

  void enum_desc_base() { class_desc("java.lang.Enum", 0, SC_SERIALIZABLE | SC_ENUM, {}); }

  void enum_value(const std::string& cls, const std::string& constant) {
    w_.u8(TC_ENUM);
    class_desc(cls, 0, SC_SERIALIZABLE | SC_ENUM, {}, &StreamWriter::enum_desc_base);
    ++next_;  // the enum object
    string(constant);
  }

  void begin_object() { w_.u8(TC_OBJECT); }
  void object_handle() { ++next_; }
  void boolean(bool b) { w_.boolean(b); }

 private:
  void reference(int32_t handle) {
    w_.u8(TC_REFERENCE);
    w_.i32(kBaseHandle + handle);
  }

  ByteWriter w_;
  std::map<std::string, int32_t> handles_;
  int32_t next_ = 0;
};

}  // namespace

std::string write_checkpoint_properties(const SnapshotProperties& p) {
  std::string out;
  StreamWriter s(out);
  if (!p.present) {
    s.null();
    return out;
  }
  const std::string pkg = kPkg;
  s.begin_object();
  s.class_desc(pkg + "CheckpointProperties", 2, SC_SERIALIZABLE,
               {{'Z', "discardCancelled", ""},
                {'Z', "discardFailed", ""},
                {'Z', "discardFinished", ""},
                {'Z', "discardSubsumed", ""},
                {'Z', "discardSuspended", ""},
                {'Z', "forced", ""},
                {'Z', "unclaimed", ""},
                {'L', "checkpointType", "Lorg/apache/flink/runtime/checkpoint/SnapshotType;"}});
  s.object_handle();
  for (bool b : {p.discard_cancelled, p.discard_failed, p.discard_finished, p.discard_subsumed, p.discard_suspended,
                 p.forced, p.unclaimed})
    s.boolean(b);
  s.begin_object();
  if (p.is_savepoint()) {
    s.class_desc(pkg + "SavepointType", static_cast<int64_t>(0xa087d308a45814b8ULL), SC_SERIALIZABLE,
                 {{'L', "formatType", "Lorg/apache/flink/core/execution/SavepointFormatType;"},
                  {'L', "name", "Ljava/lang/String;"},
                  {'L', "postCheckpointAction", "Lorg/apache/flink/runtime/checkpoint/SavepointType$PostCheckpointAction;"}});
    s.object_handle();
    s.enum_value("org.apache.flink.core.execution.SavepointFormatType", p.format_type);
    s.string(p.name);
    s.enum_value(pkg + "SavepointType$PostCheckpointAction", p.post_checkpoint_action);
  } else {
    s.class_desc(pkg + "CheckpointType", static_cast<int64_t>(0xd6de4f0305ae1d3aULL), SC_SERIALIZABLE,
                 {{'L', "name", "Ljava/lang/String;"},
                  {'L', "sharingFilesStrategy", "Lorg/apache/flink/runtime/checkpoint/SnapshotType$SharingFilesStrategy;"}});
    s.object_handle();
    s.string(p.name);
    s.enum_value(pkg + "SnapshotType$SharingFilesStrategy", p.sharing_strategy);
  }
  return out;
}

SnapshotProperties checkpoint_properties_for_checkpoint() {
  SnapshotProperties p;
  p.present = p.parsed = true;
  p.type_class = "CheckpointType";
  p.name = "Checkpoint";
  p.sharing_strategy = "FORWARD_BACKWARD";
  // CheckpointProperties.forCheckpoint(RETAIN_ON_CANCELLATION)
  p.discard_subsumed = p.discard_finished = true;
  return p;
}

SnapshotProperties checkpoint_properties_for_savepoint(bool native, bool suspend) {
  SnapshotProperties p;
  p.present = p.parsed = true;
  p.type_class = "SavepointType";
  p.name = suspend ? "Suspend Savepoint" : "Savepoint";
  p.format_type = native ? "NATIVE" : "CANONICAL";
  p.post_checkpoint_action = suspend ? "SUSPEND" : "NONE";
  p.forced = true;
  return p;
}

}  // namespace fsp
