// A bounded reader for the Java Object Serialization Stream protocol, enough
// for the CheckpointProperties object that metadata v4+ appends after the last
// operator state. The trailer's bytes are always kept verbatim by the model;
// this only interprets them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"

namespace fsp {

// A generic value from a Java serialization stream.
struct JavaValue {
  enum class Kind { kNull, kPrimitive, kString, kEnum, kObject, kArray, kOther };
  Kind kind = Kind::kNull;
  std::string class_name;                 // object/enum/array class
  std::string text;                       // string value, enum constant, or primitive as text
  std::map<std::string, JavaValue> fields;  // object fields (all classes in the hierarchy)
  std::vector<JavaValue> elements;        // arrays
};

// Parses one top-level object of a Java serialization stream (AC ED 00 05 ...).
// `base_offset` is where the bytes start in the file, for error offsets.
// Never reads past `bytes`, bounds nesting depth and element counts.
// If `consumed` is given, it receives the length of the stream read (bytes
// after it are left alone: callers that embed a stream use it to skip one).
Result<JavaValue> parse_java_object(std::string_view bytes, uint64_t base_offset = 0, size_t* consumed = nullptr);

// Interprets the CheckpointProperties trailer. Never fails: on bytes it does
// not understand it returns present=true, parsed=false and parse_error set.
// A serialized null (AC ED 00 05 70) gives present=false, parsed=true.
SnapshotProperties parse_checkpoint_properties(std::string_view trailer, uint64_t base_offset = 0);

}  // namespace fsp

namespace fsp {

// Writes `props` as Java's ObjectOutputStream.writeObject(CheckpointProperties)
// would (class descriptors, serialVersionUIDs, back-references), so the project
// can build v4+ snapshots of its own. present=false writes a serialized null.
// write_checkpoint_properties(parse_checkpoint_properties(t)) == t for every
// trailer Flink wrote (tests/java_serialization_writer_test.cc).
std::string write_checkpoint_properties(const SnapshotProperties& props);

// Convenience constructors for the common kinds.
SnapshotProperties checkpoint_properties_for_checkpoint();                      // retained checkpoint
SnapshotProperties checkpoint_properties_for_savepoint(bool native, bool suspend = false);

}  // namespace fsp
