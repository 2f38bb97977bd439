// The intake every door submits through, driven directly (no gRPC, no HTTP): a real SQLite store
// and group commit behind it, a door's own renderer, and the answers a door would send.
#include "gateway/intake/submission_intake.h"

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gtest/gtest.h"
#include "network/network_directory.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway {
namespace {

namespace v1 = ::frontdoor::v1;

std::string ReadSample(const std::string& name) {
  std::ifstream in(std::string(FRONTDOOR_SOURCE_DIR) + "/tests/data/samples/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SubmissionIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    network_ = std::make_unique<network::NetworkDirectory>(*network::NetworkDirectory::LoadDemo());
    authorizer_ = std::make_unique<Authorizer>(network_.get(), std::vector<std::string>{"ig-officer-oldham"},
                                               std::vector<std::string>{});
    store_ = *SqliteStore::Open(dir_.path() + "/db");
    committer_ = std::make_unique<SubmissionCommitter>(store_.get(), &clock_, nullptr, /*max_queued=*/4);
    SubmissionIntakeDeps deps;
    deps.network = network_.get();
    deps.authorizer = authorizer_.get();
    deps.committer = committer_.get();
    deps.clock = &clock_;
    intake_ = std::make_unique<SubmissionIntake>(std::move(deps));
  }

  // Submits as `identity` through a door called `door`, whose renderer writes "<disposition>
  // <referral id> <duplicate>"; waits for the answer.
  IntakeAnswer Submit(const std::string& identity, adapters::MessageFormat format, std::string text,
                      const std::string& door = "test") {
    Submission submission;
    submission.caller = *authorizer_->Identify(identity);
    submission.payload.format = format;
    submission.payload.text = std::move(text);
    submission.door = door;
    absl::Notification done;
    IntakeAnswer answer;
    intake_->Submit(
        std::move(submission),
        [](const v1::SubmitReferralResponse& r) {
          return v1::Disposition_Name(r.disposition()) + " " + r.referral_id() + (r.duplicate() ? " duplicate" : "");
        },
        [&](IntakeAnswer a) {
          answer = std::move(a);
          done.Notify();
        });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(20)));
    return answer;
  }

  frontdoor::testing::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<network::NetworkDirectory> network_;
  std::unique_ptr<Authorizer> authorizer_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<SubmissionCommitter> committer_;
  std::unique_ptr<SubmissionIntake> intake_;
};

TEST_F(SubmissionIntakeTest, AnAcceptedMessageIsAnsweredInTheDoorsRenderingOnceItIsStored) {
  const IntakeAnswer a = Submit("P85901", adapters::MessageFormat::kFhir, ReadSample("01-fhir-oldham-wellbeing.json"));
  ASSERT_TRUE(a.status.ok()) << a.status;
  EXPECT_EQ(a.disposition, v1::ACCEPTED);
  EXPECT_FALSE(a.duplicate);
  ASSERT_FALSE(a.referral_id.empty());
  EXPECT_EQ(a.rendered, "ACCEPTED " + a.referral_id);
  auto stored = store_->GetReferral(a.referral_id);
  ASSERT_TRUE(stored.ok() && stored->has_value()) << "answered only once durable";
  EXPECT_EQ((*stored)->sender_ods, "P85901");
  EXPECT_EQ(store_->DueDeliveries("action-together-oldham", absl::InfiniteFuture(), 10)->size(), 1u);
}

TEST_F(SubmissionIntakeTest, TheSameMessageThroughAnotherDoorIsTheSameReferral) {
  const std::string fhir = ReadSample("01-fhir-oldham-wellbeing.json");
  const IntakeAnswer first = Submit("P85901", adapters::MessageFormat::kFhir, fhir, "grpc");
  const IntakeAnswer again = Submit("P85901", adapters::MessageFormat::kFhir, fhir, "fhir-http");
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.referral_id, first.referral_id);
  EXPECT_EQ(again.rendered, "ACCEPTED " + first.referral_id + " duplicate");
  EXPECT_EQ(store_->DueDeliveries("action-together-oldham", absl::InfiniteFuture(), 10)->size(), 1u);
}

TEST_F(SubmissionIntakeTest, AnUnreadableMessageIsAnsweredAtOnceAndNothingIsStored) {
  const IntakeAnswer a = Submit("P85901", adapters::MessageFormat::kHl7v2, "not HL7 at all");
  ASSERT_TRUE(a.status.ok());
  EXPECT_EQ(a.disposition, v1::REJECTED);
  EXPECT_TRUE(a.referral_id.empty());
  EXPECT_EQ(a.rendered, "REJECTED ");
  EXPECT_TRUE(store_->DueDeliveries("action-together-oldham", absl::InfiniteFuture(), 10)->empty());
}

TEST_F(SubmissionIntakeTest, AMessageNamingAnotherSenderIsRefusedAsATransportAnswer) {
  const IntakeAnswer a = Submit("P85902", adapters::MessageFormat::kFhir, ReadSample("01-fhir-oldham-wellbeing.json"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kPermissionDenied) << a.status;
  EXPECT_TRUE(a.rendered.empty());
}

TEST_F(SubmissionIntakeTest, ACallerWithoutTheRightToSubmitIsRefused) {
  const IntakeAnswer a =
      Submit("ig-officer-oldham", adapters::MessageFormat::kFhir, ReadSample("01-fhir-oldham-wellbeing.json"));
  EXPECT_EQ(a.status.code(), absl::StatusCode::kPermissionDenied) << a.status;
}

TEST_F(SubmissionIntakeTest, AFullCommitQueueIsRefusedWithWhenToSendAgain) {
  frontdoor::testing::WriteLockHolder lock(dir_.path() + "/db");
  // The writer holds the first batch in its (waiting) transaction; the rest fill the bound of 4.
  std::vector<std::unique_ptr<absl::Notification>> pending;
  for (int i = 0; i < 4; ++i) {
    v1::SubmitReferralRequest request;
    Submission submission;
    submission.caller = *authorizer_->Identify("P85901");
    submission.payload.format = adapters::MessageFormat::kTyped;
    submission.payload.typed = frontdoor::testing::RoytonReferral("m" + std::to_string(i));
    auto* done = pending.emplace_back(std::make_unique<absl::Notification>()).get();
    intake_->Submit(
        std::move(submission), [](const v1::SubmitReferralResponse&) { return std::string(); },
        [done](IntakeAnswer) { done->Notify(); });
  }
  Submission one_more;
  one_more.caller = *authorizer_->Identify("P85901");
  one_more.payload.format = adapters::MessageFormat::kTyped;
  one_more.payload.typed = frontdoor::testing::RoytonReferral("m-over");
  std::optional<IntakeAnswer> refused;
  intake_->Submit(
      std::move(one_more), [](const v1::SubmitReferralResponse&) { return std::string(); },
      [&](IntakeAnswer a) { refused = std::move(a); });
  ASSERT_TRUE(refused.has_value()) << "a refusal is answered at once, on the submitting thread";
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_GT(refused->retry_after, absl::ZeroDuration());
  lock.Release();
  for (auto& done : pending) EXPECT_TRUE(done->WaitForNotificationWithTimeout(absl::Seconds(20)));
}

}  // namespace
}  // namespace frontdoor::gateway
