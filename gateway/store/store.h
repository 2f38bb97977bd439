// Store: the gateway's one durable store, as its backends implement it: every interface its
// consumers use, on one database, so that what one commit records together stays together
// (a referral with its outbox row and audit records; a withdrawal with its cease; a progress
// report with its audit record). Wiring hands each consumer only the interface it uses:
//
//   std::unique_ptr<Store> store = std::move(opened.store);       // gateway/server/store_selection.h
//   SubmissionCommitter committer(store.get(), ...);              // ReferralRecords
//   DeliveryDispatcher dispatcher(store.get(), ...);              // DeliveryOutbox
//   AuditCheckpointer checkpointer(store.get(), ...);             // AuditStore
//
// Backends: SqliteStore (gateway/store/sqlite/, embedded, one gateway) and PostgresStore
// (gateway/store/postgres/, several replicas on one database). The contract tests in tests/gateway/store/
// run against both. Thread-safety: every method of every interface may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_STORE_H_
#define FRONTDOOR_GATEWAY_STORE_STORE_H_

#include "gateway/store/audit_store.h"
#include "gateway/store/dead_letters.h"
#include "gateway/store/delivery_outbox.h"
#include "gateway/store/feedback_log.h"
#include "gateway/store/referral_records.h"
#include "gateway/store/report_reads.h"
#include "gateway/store/withdrawals.h"

namespace frontdoor::gateway {

class Store : public ReferralRecords,
              public DeliveryOutbox,
              public DeadLetters,
              public Withdrawals,
              public FeedbackLog,
              public AuditStore,
              public ReportReads {
 public:
  ~Store() override = default;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_STORE_H_
