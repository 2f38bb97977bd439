// ReferralRecords: the durable record of referrals and their decisions. A decided referral, its
// outbox row and its audit records are written in ONE transaction before the referrer is
// answered (the transactional outbox), so an acknowledged referral survives any crash and is
// delivered after a restart.
//
//   std::vector<RecordOutcome> out = *records->RecordReferrals(std::move(batch));  // one commit
//   std::optional<StoredReferral> r = *records->GetReferral(referral_id);
//
// Consumers: the group commit (gateway/intake/submission_committer.h) records; the services read.
// Thread-safety: every method may be called from any thread.
#ifndef FRONTDOOR_GATEWAY_STORE_REFERRAL_RECORDS_H_
#define FRONTDOOR_GATEWAY_STORE_REFERRAL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "frontdoor/v1/audit_service.pb.h"
#include "frontdoor/v1/connector_service.pb.h"
#include "frontdoor/v1/referral.pb.h"
#include "frontdoor/v1/referral_service.pb.h"

namespace frontdoor::gateway {

// A delivery to make: one call of ConnectorService.DeliverReferral to `endpoint_id`.
struct NewDelivery {
  std::string endpoint_id;
  frontdoor::v1::DeliverReferralRequest request;  // carries the idempotency key
};

// A decided referral (ACCEPTED or REFUSED) to record.
struct NewReferral {
  std::string referral_id;
  std::string sender_ods;
  std::string message_id;
  std::string format;  // typed | fhir | hl7v2
  absl::Time received_at;
  // MessageFingerprint of the message (gateway/store/message_fingerprint.h): a later message under
  // the same (sender_ods, message_id) is a resend only when its fingerprint agrees.
  std::string content_fingerprint;
  // The answer given to the referrer (without the sender-format reply, rendered per request).
  frontdoor::v1::SubmitReferralResponse decision;
  // The canonical referral as received: the casework record. Stays in the gateway.
  frontdoor::v1::Referral referral;
  std::optional<NewDelivery> delivery;  // Present when ACCEPTED.
  // IG-9: the audit records of this decision (the decision, then each withheld item), appended to
  // the audit log in the same transaction as the referral; the store assigns index and leaf hash.
  // Not written for a duplicate. The first record's nhs_number, consent_reference and rule_ids are
  // what later delivery, withdrawal and cease records of this referral cite.
  std::vector<frontdoor::v1::AuditRecord> audit;
};

struct RecordOutcome {
  // True when (sender, message_id) was already recorded for the same message (a resend);
  // `decision` is then the first answer.
  bool duplicate = false;
  // True when (sender, message_id) was already recorded for a different message (the fingerprints
  // disagree): nothing was recorded, `decision` is empty (nothing of the first referral may reach
  // this sender's answer), and `first_received_at` says when the id was first used.
  bool message_id_reused = false;
  absl::Time first_received_at;
  frontdoor::v1::SubmitReferralResponse decision;
};

struct StoredReferral {
  std::string referral_id;
  std::string sender_ods;
  std::string message_id;
  std::string format;
  absl::Time received_at;
  frontdoor::v1::SubmitReferralResponse decision;
  frontdoor::v1::DeliveryState delivery_state = frontdoor::v1::DELIVERY_STATE_UNSPECIFIED;
  std::optional<absl::Time> delivered_at;
  uint32_t delivery_attempts = 0;
  // IG-7: set once the referring organisation withdrew it.
  std::optional<absl::Time> cancelled_at;
  frontdoor::v1::CancelReason cancel_reason = frontdoor::v1::CANCEL_REASON_UNSPECIFIED;
  bool cease_processing_sent = false;          // a CeaseProcessing was queued for the connector
  bool cease_processing_acknowledged = false;  // and the connector acknowledged it
};

class ReferralRecords {
 public:
  virtual ~ReferralRecords() = default;

  // Records every referral of `batch` in one transaction (group commit), in order. A referral whose
  // (sender_ods, message_id) is already recorded, earlier or earlier in the same batch, is not
  // written again: its outcome is `duplicate` with the first decision when it is a resend
  // (IsResendOf the recorded fingerprint), `message_id_reused` otherwise. Returns one outcome per
  // input, in order, only after the transaction is durable; on failure nothing of the batch is
  // recorded (UNAVAILABLE for a busy or failing disk, INTERNAL otherwise).
  virtual absl::StatusOr<std::vector<RecordOutcome>> RecordReferrals(std::vector<NewReferral> batch) = 0;

  // The referral, or nullopt when there is none with that id.
  virtual absl::StatusOr<std::optional<StoredReferral>> GetReferral(std::string_view referral_id) = 0;
};

}  // namespace frontdoor::gateway

#endif  // FRONTDOOR_GATEWAY_STORE_REFERRAL_RECORDS_H_
