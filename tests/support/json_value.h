// Reading JSON answers in tests: a document as a google.protobuf.Value, and its members without
// ceremony (absent members read as null, so a chain of lookups never throws).
//
//   google::protobuf::Value body = Json(reply.body);       // a test failure when it is not JSON
//   Text(Field(body, "meta"), "versionId");                 // "" when absent
//
// Header-only; for tests.
#ifndef FRONTDOOR_TESTS_SUPPORT_JSON_VALUE_H_
#define FRONTDOOR_TESTS_SUPPORT_JSON_VALUE_H_

#include <string>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace frontdoor::testing {

inline google::protobuf::Value Json(const std::string& text) {
  google::protobuf::Value value;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &value).ok()) << text;
  return value;
}

inline const google::protobuf::Value& Field(const google::protobuf::Value& v, const std::string& key) {
  static const google::protobuf::Value kNull;
  auto it = v.struct_value().fields().find(key);
  return it == v.struct_value().fields().end() ? kNull : it->second;
}

inline std::string Text(const google::protobuf::Value& v, const std::string& key) {
  return Field(v, key).string_value();
}

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_JSON_VALUE_H_
