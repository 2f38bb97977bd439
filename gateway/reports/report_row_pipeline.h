// ReportRowPipeline: counts a report's rows on a thread of its own while the store reads the next
// ones. On a year of a large network (a million rows) reading (SQLite's steps or PostgreSQL's
// transfer, and parsing each row) and counting (the facts and the tables) each take about half of
// the time, and the machine has more than one core.
//
//   ReportRowPipeline pipeline([&](const ReportRow& row) { return builder->Add(reader.FactsOf(row)); });
//   absl::Status read = store->ForEachReferralReceived(from, to, [&](const ReportRow& row) { pipeline.Add(row); });
//   absl::Status counted = pipeline.Finish();   // always call: it waits for the counting thread
//
// Rows travel in batches of a few thousand, each row's bytes copied into a slot that keeps its
// memory from batch to batch (the counting thread parses them: it is the less busy one); at most three batches exist,
// so memory does not grow with the report. After `count` fails it is not called again. Add and Finish on one thread.
#ifndef FRONTDOOR_GATEWAY_REPORTS_REPORT_ROW_PIPELINE_H_
#define FRONTDOOR_GATEWAY_REPORTS_REPORT_ROW_PIPELINE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/report_reads.h"

namespace frontdoor::gateway {

class ReportRowPipeline {
 public:
  explicit ReportRowPipeline(std::function<absl::Status(const ReportRow&)> count);
  ReportRowPipeline(const ReportRowPipeline&) = delete;
  ReportRowPipeline& operator=(const ReportRowPipeline&) = delete;
  ~ReportRowPipeline();  // Finishes, if the caller did not

  void Add(const ReportRow& row);
  // Hands over the last rows, waits until every row is counted; `count`'s first error, if any.
  absl::Status Finish();

 private:
  struct Batch {
    std::vector<ReportRow> rows;
    size_t used = 0;
  };
  void Count();
  void HandOver() ABSL_LOCKS_EXCLUDED(mu_);

  const std::function<absl::Status(const ReportRow&)> count_;
  Batch batches_[3];
  Batch* filling_;  // the reading thread's
  absl::Mutex mu_;
  std::deque<Batch*> full_ ABSL_GUARDED_BY(mu_);
  std::deque<Batch*> empty_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  bool finished_ = false;
  std::thread counter_;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_REPORTS_REPORT_ROW_PIPELINE_H_
