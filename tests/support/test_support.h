// Shared test fixtures: temporary directories, a valid typed referral to vary, a real
// ConnectorService on loopback that records deliveries and can be told to fail, and a second
// connection holding an SQLite file's write lock.
#ifndef FRONTDOOR_TESTS_SUPPORT_TEST_SUPPORT_H_
#define FRONTDOOR_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "frontdoor/v1/connector_service.grpc.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "grpcpp/grpcpp.h"

struct sqlite3;

namespace frontdoor::testing {

// Asks `done` every `every` until it says yes or `timeout` has passed; its last answer.
template <typename Predicate>
bool WaitFor(Predicate done, absl::Duration timeout, absl::Duration every = absl::Milliseconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(every);
  }
  return done();
}

// A fresh directory under the test's temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a gateway configuration into `dir`: the demo configuration (the demo network built in)
// with per-identity limits high enough for tests that send many referrals as one identity, plus
// `extra` (more protobuf text-format fields; repeated fields such as operators are appended, so
// name only ones the demo configuration lacks). Returns its path, for GatewayOptions::config_path or
// --config.
std::string WriteBulkTestConfig(const std::string& dir, const std::string& extra = "");

// A valid, permitted Oldham referral: 45-year-old, feeling lonely, postcode OL2 6LB (Royton), from
// practice P85901, referral date 2025-02-03, an active permit. Routes to oldham-north-royton-wellbeing.
frontdoor::v1::Referral RoytonReferral(const std::string& message_id);
// RoytonReferral living in Ashton (OL6 7AB): routes to Tameside, action-together-tameside.
frontdoor::v1::Referral TamesideReferral(const std::string& message_id);

// A ConnectorService served on 127.0.0.1 (port chosen by the system), recording every delivery.
class RecordingConnector final : public frontdoor::v1::ConnectorService::CallbackService {
 public:
  RecordingConnector();
  // Listens on `address` ("127.0.0.1:PORT"): a connector coming back where one was before.
  explicit RecordingConnector(const std::string& address);
  ~RecordingConnector() override;

  const std::string& address() const { return address_; }
  // The next `n` DeliverReferral calls fail with UNAVAILABLE (before being recorded).
  void FailNext(int n);
  // Waits until `n` distinct idempotency keys were delivered or `timeout` passes; returns the count.
  int WaitForDistinct(int n, absl::Duration timeout);
  std::vector<frontdoor::v1::DeliverReferralRequest> received() const;
  std::map<std::string, int> calls_per_key() const;
  int failed_calls() const;
  // From now on, successful DeliverReferral calls are answered after `delay` (a slow connector).
  void SetAnswerDelay(absl::Duration delay);
  // The most DeliverReferral calls that were open at once.
  int max_in_flight() const;

  // Every call that succeeded, in arrival order: "deliver:<referral_id>" or "cease:<referral_id>".
  std::vector<std::string> events() const;

  grpc::ServerUnaryReactor* DeliverReferral(grpc::CallbackServerContext* ctx,
                                            const frontdoor::v1::DeliverReferralRequest* req,
                                            frontdoor::v1::DeliverReferralResponse* resp) override;
  grpc::ServerUnaryReactor* CeaseProcessing(grpc::CallbackServerContext* ctx,
                                            const frontdoor::v1::CeaseProcessingRequest* req,
                                            frontdoor::v1::CeaseProcessingResponse* resp) override;

 private:
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  mutable absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  int failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration answer_delay_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> delayed_answers_ ABSL_GUARDED_BY(mu_);
  std::vector<frontdoor::v1::DeliverReferralRequest> received_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_per_key_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// Another connection holding an SQLite database's write lock (BEGIN EXCLUSIVE), as a backup tool or
// a stray sqlite3 shell would: the store's writer then really waits in BEGIN IMMEDIATE (its busy
// timeout is 5 s, so a test releases the lock well within that), and everything handed to the
// group commit meanwhile stays queued. Released by Release() or the destructor.
class WriteLockHolder {
 public:
  explicit WriteLockHolder(const std::string& path);
  ~WriteLockHolder();
  WriteLockHolder(const WriteLockHolder&) = delete;
  WriteLockHolder& operator=(const WriteLockHolder&) = delete;
  void Release();

 private:
  sqlite3* db_ = nullptr;
  bool held_ = true;
};

}  // namespace frontdoor::testing

#endif  // FRONTDOOR_TESTS_SUPPORT_TEST_SUPPORT_H_
