#include "tests/gateway/store/store_test_rows.h"

#include "gateway/store/message_fingerprint.h"
#include "tests/support/test_support.h"

namespace frontdoor::gateway::testing {

namespace v1 = ::frontdoor::v1;

NewReferral Accepted(const std::string& id, const std::string& sender, const std::string& message_id) {
  NewReferral r;
  r.referral_id = id;
  r.sender_ods = sender;
  r.message_id = message_id;
  r.format = "typed";
  r.received_at = kT0;
  r.decision.set_referral_id(id);
  r.decision.set_disposition(v1::ACCEPTED);
  r.decision.set_connector_id("oldham-north-royton-wellbeing");
  r.decision.set_endpoint_id("action-together-oldham");
  r.referral = frontdoor::testing::RoytonReferral(message_id);
  r.content_fingerprint = MessageFingerprint(r.referral);
  NewDelivery d;
  d.endpoint_id = "action-together-oldham";
  d.request.set_idempotency_key("deliver:" + id);
  d.request.mutable_referral()->set_referral_id(id);
  r.delivery = d;
  return r;
}

std::vector<NewReferral> AcceptedBatch(int first, int last) {
  std::vector<NewReferral> batch;
  for (int i = first; i <= last; ++i)
    batch.push_back(Accepted("r" + std::to_string(i), "P85901", "m" + std::to_string(i)));
  return batch;
}

NewReferral Refused(const std::string& id, const std::string& message_id) {
  NewReferral r = Accepted(id, "P85901", message_id);
  r.decision.set_disposition(v1::REFUSED);
  r.decision.clear_connector_id();
  r.decision.clear_endpoint_id();
  r.delivery.reset();
  return r;
}

std::vector<NewReferral> One(NewReferral r) {
  std::vector<NewReferral> v;
  v.push_back(std::move(r));
  return v;
}

std::vector<const OutboxItem*> Rows(const std::vector<OutboxItem>& items) {
  std::vector<const OutboxItem*> rows;
  for (const OutboxItem& item : items) rows.push_back(&item);
  return rows;
}

// An accepted referral with its decision's audit record, whose context (who, consent, referrer,
NewReferral AcceptedWithAudit(const std::string& id, const std::string& message_id) {
  NewReferral r = Accepted(id, "P85901", message_id);
  v1::AuditRecord decide;
  decide.set_time("2025-02-03T10:15:00.000000Z");
  decide.set_actor("P85901");
  decide.set_actor_organisation("P85901");
  decide.set_nhs_number("9434765919");
  decide.set_referral_id(id);
  decide.set_action("decide");
  decide.add_rule_ids("IG-1");
  decide.add_rule_ids("IG-5");
  decide.set_consent_reference("consent-" + id);
  decide.set_recipient_endpoint("action-together-oldham");
  decide.set_outcome("permit");
  r.audit.push_back(decide);
  return r;
}

v1::AuditRecord LastAuditRecord(AuditStore* audit) {
  const uint64_t size = audit->AuditTreeSize().value();
  return audit->GetAuditRecord(size - 1).value().value();
}

}  // namespace frontdoor::gateway::testing
