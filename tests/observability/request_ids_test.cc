#include "observability/request_ids.h"

#include <set>

#include "gtest/gtest.h"

namespace frontdoor::observability {
namespace {

TEST(RequestIdsTest, CallersWellFormedIdsAreKept) {
  const CallIds ids = ResolveCallIds(std::string_view("req-1"), std::string_view("corr-1"));
  EXPECT_EQ(ids.request_id, "req-1");
  EXPECT_EQ(ids.correlation_id, "corr-1");
  EXPECT_TRUE(ids.request_id_from_caller);
  EXPECT_TRUE(ids.correlation_id_from_caller);
}

TEST(RequestIdsTest, AbsentIdsAreGeneratedAndTheCorrelationIdIsTheRequestId) {
  const CallIds ids = ResolveCallIds(std::nullopt, std::nullopt);
  EXPECT_EQ(ids.request_id.size(), 36u);
  EXPECT_EQ(ids.correlation_id, ids.request_id);
  EXPECT_FALSE(ids.request_id_from_caller);
}

TEST(RequestIdsTest, MalformedIdsAreReplacedNeverEchoed) {
  for (const std::string bad : {std::string(), std::string(129, 'a'), std::string("a b"), std::string("a\tb"),
                                std::string("caf\xc3\xa9"), std::string("a\nb")}) {
    const CallIds ids = ResolveCallIds(std::string_view(bad), std::string_view(bad));
    EXPECT_NE(ids.request_id, bad);
    EXPECT_NE(ids.correlation_id, bad);
    EXPECT_TRUE(IsAcceptableCallId(ids.request_id));
    EXPECT_TRUE(IsAcceptableCallId(ids.correlation_id));
  }
  EXPECT_TRUE(IsAcceptableCallId(std::string(128, 'a')));
}

TEST(RequestIdsTest, GeneratedIdsAreVersion4UuidsAndDoNotRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[8], '-');
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    EXPECT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
}  // namespace frontdoor::observability
