// The store frontdoor-report-bench reads: a year (2025) of a large network's referrals and their
// feedback, made up in the demo network's shares and written through the store API as the gateway
// writes them (RecordReferrals in batches, RecordFeedback per event, audit records included).
//
//   ReferralSeeder seeder(network);
//   SeededReferral r = seeder.Make(i, n);   // referral i of n, received at its place in the year
//   absl::StatusOr<SeedFigures> f = SeedStore(store, network, 1000000, /*threads=*/1);
//
// The mix: about 90% accepted across the clusters, categories and teams (a front-door team where
// the team is paused), refusals under IG-1, IG-2, IG-3 and IG-6; half from GP practices, a fifth
// self-referrals, the rest from referrers.csv's hospitals, social care, mental health and early
// help. Of the accepted, ~85% contacted, ~68% a first conversation, ~49% connected to one to three
// named activities, ~45% closed with SWEMWBS start and end scores (half of them ONS4 too); some
// declined or unable to contact. Deliveries are not queued: the outbox is not what reports read.
// Deterministic: the same n gives the same referrals.
#ifndef FRONTDOOR_BENCH_REPORT_SEED_H_
#define FRONTDOOR_BENCH_REPORT_SEED_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/feedback_service.pb.h"
#include "gateway/store/store.h"
#include "network/network_directory.h"

namespace frontdoor::bench {

// The year the referrals are received in: [2025-01-01, 2026-01-01) UTC.
absl::Time ReportYearStart();
absl::Time ReportYearEnd();

struct SeededReferral {
  gateway::NewReferral record;
  std::vector<frontdoor::v1::ReportProgressRequest> feedback;  // in the order they happen
};

// Not thread-safe; `network` must outlive it.
class ReferralSeeder {
 public:
  explicit ReferralSeeder(const network::NetworkDirectory& network);
  ~ReferralSeeder();
  // Referral `i` of `n`, received at its place in the year; the feedback of an accepted one.
  SeededReferral Make(int64_t i, int64_t n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct SeedFigures {
  int64_t referrals = 0;
  int64_t feedback = 0;
  double seconds = 0;
  bool reused = false;  // the store was seeded by an earlier run
};

// Records referrals [0, n) in batches of 2,000, then each batch's feedback from `threads` threads
// (a referral's events in order on one thread), printing progress to stderr. The first store error.
absl::StatusOr<SeedFigures> SeedStore(gateway::Store* store, const network::NetworkDirectory& network, int64_t n,
                                      int threads);

}  // namespace frontdoor::bench

#endif  // FRONTDOOR_BENCH_REPORT_SEED_H_
