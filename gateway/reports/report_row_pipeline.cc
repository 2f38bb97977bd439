#include "gateway/reports/report_row_pipeline.h"

#include <utility>

#include "common/threads.h"

namespace frontdoor::gateway {

namespace {

constexpr size_t kBatchRows = 4096;

}  // namespace

ReportRowPipeline::ReportRowPipeline(std::function<absl::Status(const ReportRow&)> count)
    : count_(std::move(count)), filling_(&batches_[0]) {
  for (Batch& b : batches_) b.rows.resize(kBatchRows);
  empty_.push_back(&batches_[1]);
  empty_.push_back(&batches_[2]);
  counter_ = std::thread([this] {
    NameThisThread("report-count");
    Count();
  });
}

ReportRowPipeline::~ReportRowPipeline() { Finish().IgnoreError(); }

void ReportRowPipeline::Add(const ReportRow& row) {
  ReportRow& slot = filling_->rows[filling_->used++];
  slot.received_at = row.received_at;
  slot.facts.assign(row.facts);  // into the slot's string: no allocation once warm
  if (filling_->used == kBatchRows) HandOver();
}

void ReportRowPipeline::HandOver() {
  absl::MutexLock lock(&mu_);
  full_.push_back(filling_);
  mu_.Await(absl::Condition(
      +[](std::deque<Batch*>* empty) { return !empty->empty(); }, &empty_));
  filling_ = empty_.front();
  empty_.pop_front();
  filling_->used = 0;
}

void ReportRowPipeline::Count() {
  absl::Status s;  // count_'s first error: once failed, it is not called again
  for (;;) {
    Batch* batch;
    {
      absl::MutexLock lock(&mu_);
      if (status_.ok()) status_ = s;
      mu_.Await(absl::Condition(
          +[](ReportRowPipeline* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) { return !p->full_.empty() || p->done_; },
          this));
      if (full_.empty()) return;  // done, and every batch counted
      batch = full_.front();
      full_.pop_front();
    }
    for (size_t i = 0; i < batch->used && s.ok(); ++i) s = count_(batch->rows[i]);
    absl::MutexLock lock(&mu_);
    empty_.push_back(batch);
  }
}

absl::Status ReportRowPipeline::Finish() {
  if (!finished_) {
    finished_ = true;
    {
      absl::MutexLock lock(&mu_);
      if (filling_->used > 0) full_.push_back(filling_);
      done_ = true;
    }
    counter_.join();
  }
  absl::MutexLock lock(&mu_);
  return status_;
}

}  // namespace frontdoor::gateway
