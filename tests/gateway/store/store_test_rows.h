// Rows the store tests record: accepted and refused referrals of the Royton sample, with and
// without their decision's audit records, and what the tests read back.
//
//   ASSERT_TRUE(store->RecordReferrals(One(AcceptedWithAudit("r1", "m1"))).ok());
#ifndef FRONTDOOR_TESTS_GATEWAY_STORE_STORE_TEST_ROWS_H_
#define FRONTDOOR_TESTS_GATEWAY_STORE_STORE_TEST_ROWS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "gateway/store/store.h"

namespace frontdoor::gateway::testing {

// The referral date of the rows, 2025-02-03T10:15:00Z.
inline const absl::Time kT0 = absl::FromUnixSeconds(1738577700);

// An accepted Royton referral `id` from `sender` under `message_id`, with its delivery to
// action-together-oldham (idempotency key "deliver:<id>") and its fingerprint.
NewReferral Accepted(const std::string& id, const std::string& sender, const std::string& message_id);
// Accepted referrals r<first>..r<last> from P85901, message ids m<first>..m<last>.
std::vector<NewReferral> AcceptedBatch(int first, int last);
// Accepted(id, "P85901", message_id) refused instead: no route, no delivery.
NewReferral Refused(const std::string& id, const std::string& message_id);
// A batch of one.
std::vector<NewReferral> One(NewReferral r);
// Rows as the dispatcher hands them to MarkDeliveredMany.
std::vector<const OutboxItem*> Rows(const std::vector<OutboxItem>& items);
// An accepted referral with its decision's audit record, whose context (who, consent, referrer,
// rules) later records of the referral cite.
NewReferral AcceptedWithAudit(const std::string& id, const std::string& message_id);
// A progress report on `referral_id` from action-together-oldham, under `key`, recorded at kT0:
// `status` at `occurred_at`; CONNECTED to `connected_to`; CLOSED with SWEMWBS 19.25 -> 24.11.
NewFeedback Progress(const std::string& referral_id, const std::string& key, frontdoor::v1::ProgressStatus status,
                     const std::string& occurred_at, const std::vector<std::string>& connected_to = {});
// Records `feedback` on `referral` as a new event (asserting it is recorded).
void RecordProgress(Store* store, const NewFeedback& feedback, const StoredReferral& referral);
// Records three referrals received from kT0 on (r-cw1 accepted with a contact, a connection to an
// activity and a closure with a SWEMWBS score; r-cw2 refused under IG-2; r-cw3 accepted, no
// feedback yet), for the tests of what a report reads, and a migration's fill of it.
void RecordReferralsWithCasework(Store* store);
// A report's rows, one text per row, comparable with EXPECT_EQ.
std::vector<std::string> ReportRowTexts(Store* store);
// The newest record of the audit log.
frontdoor::v1::AuditRecord LastAuditRecord(AuditStore* audit);

}  // namespace frontdoor::gateway::testing

#endif  // FRONTDOOR_TESTS_GATEWAY_STORE_STORE_TEST_ROWS_H_
