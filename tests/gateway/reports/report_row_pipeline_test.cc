#include "gateway/reports/report_row_pipeline.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace frontdoor::gateway {
namespace {

ReportRow RowNumber(int64_t i) {
  ReportRow row;
  row.received_at = absl::FromUnixMicros(i);
  frontdoor::internal::ReportFacts facts;
  facts.set_cluster_id(absl::StrCat("cluster-", i));
  if (i % 3 == 0) facts.add_connected_to(absl::StrCat("activity-", i));
  row.facts = facts.SerializeAsString();
  return row;
}

// Enough rows for several rounds of the three batches, and a last one that is not full.
constexpr int64_t kRows = 30001;

TEST(ReportRowPipelineTest, EveryRowIsCountedOnceInTheOrderItWasRead) {
  std::vector<int64_t> seen;
  std::vector<std::string> clusters;
  int64_t activities = 0;
  ReportRowPipeline pipeline([&](const ReportRow& row) {
    seen.push_back(absl::ToUnixMicros(row.received_at));
    frontdoor::internal::ReportFacts facts;
    EXPECT_TRUE(row.ParseFacts(&facts));
    clusters.push_back(facts.cluster_id());
    activities += facts.connected_to_size();
    return absl::OkStatus();
  });
  for (int64_t i = 0; i < kRows; ++i) pipeline.Add(RowNumber(i));
  ASSERT_TRUE(pipeline.Finish().ok());
  ASSERT_EQ(seen.size(), static_cast<size_t>(kRows));
  for (int64_t i = 0; i < kRows; ++i) {
    ASSERT_EQ(seen[i], i);
    ASSERT_EQ(clusters[i], absl::StrCat("cluster-", i)) << "a slot kept another row's value";
  }
  EXPECT_EQ(activities, (kRows + 2) / 3) << "a slot kept a list from the row before it";
}

TEST(ReportRowPipelineTest, TheFirstErrorStopsTheCountingAndIsWhatFinishReturns) {
  int64_t counted = 0;
  ReportRowPipeline pipeline([&](const ReportRow& row) {
    ++counted;
    if (absl::ToUnixMicros(row.received_at) == 5000) return absl::InternalError("facts[5000]: broken");
    return absl::OkStatus();
  });
  for (int64_t i = 0; i < kRows; ++i) pipeline.Add(RowNumber(i));
  const absl::Status s = pipeline.Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "facts[5000]: broken");
  EXPECT_EQ(counted, 5001) << "nothing is counted after the error";
}

TEST(ReportRowPipelineTest, NoRowsIsNothingCounted) {
  int64_t counted = 0;
  ReportRowPipeline pipeline([&](const ReportRow&) {
    ++counted;
    return absl::OkStatus();
  });
  EXPECT_TRUE(pipeline.Finish().ok());
  EXPECT_EQ(counted, 0);
}

}  // namespace
}  // namespace frontdoor::gateway
