// Shared by the adapter tests: reading the sample messages in tests/data/samples (a copy of
// shared/samples, so the project stands alone) and matching issues by code and path.
//
//   std::string json = ReadSample("01-fhir-oldham-wellbeing.json");
//   EXPECT_THAT(parsed.issues, ElementsAre(IssueIs("MISSING_ELEMENT", "PID")));
#ifndef FRONTDOOR_TESTS_ADAPTERS_ADAPTER_TEST_SUPPORT_H_
#define FRONTDOOR_TESTS_ADAPTERS_ADAPTER_TEST_SUPPORT_H_

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace frontdoor::adapters::testing {

inline std::string SamplesDir() { return std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/"; }

inline std::string ReadSample(const std::string& name) {
  std::ifstream in(SamplesDir() + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read sample " << name;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// `text` with the one occurrence of `from` replaced by `to`; fails the test if `from` is absent.
inline std::string ReplaceOnce(std::string text, std::string_view from, std::string_view to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "not in the text: " << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

MATCHER_P2(IssueIs, code, path, std::string("an issue ") + code + " at " + path) {
  return arg.code() == code && arg.path() == path;
}

MATCHER_P(IssueCodeIs, code, std::string("an issue ") + code) { return arg.code() == code; }

}  // namespace frontdoor::adapters::testing

#endif  // FRONTDOOR_TESTS_ADAPTERS_ADAPTER_TEST_SUPPORT_H_
